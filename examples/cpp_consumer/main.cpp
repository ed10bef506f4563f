// Minimal careshed consumer: prints the library version. (Extended by the density quick start.)
#include <careshed/careshed.hpp>

#include <iostream>

int main() {
  std::cout << "careshed " << careshed::version() << "\n";
  return 0;
}

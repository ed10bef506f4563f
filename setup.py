"""Builds careshed._core with CMake (the same CMakeLists.txt C++ users build) and packages it.

The CMake build directory is persistent (build/python-ext) so that re-installing after a small change
recompiles only what changed. Environment: CARESHED_BUILD_DIR overrides it (the Makefile points it at the
one build tree it also uses for the C++ tests, so the core is compiled once); CARESHED_JOBS sets -j.
The version is read from CMakeLists.txt's project() line: the one place it is written.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def cmake_project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    match = re.search(r"project\(\s*careshed\s+VERSION\s+([0-9][0-9.]*)", text)
    if not match:
        raise RuntimeError("CMakeLists.txt: no 'project(careshed VERSION x.y.z ...)' line to read the version from")
    return match.group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("CARESHED_BUILD_DIR", ROOT / "build" / "python-ext")).resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        jobs = os.environ.get("CARESHED_JOBS", str(os.cpu_count() or 2))
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                     "-DCARESHED_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"]
        if not (build_dir / "CMakeCache.txt").exists():
            configure.append("-DCARESHED_BUILD_TESTS=OFF")  # a tree of its own: the module only
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "_core", "-j", jobs])
        built = sorted((build_dir / "python" / "careshed").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"CMake did not produce careshed/_core*.so under {build_dir}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built[-1]), str(target))


class BuildPyWithData(build_py):
    """Also ships the example datasets (data/<region>/) as careshed/data/<region>/, so that
    `careshed demo` works from an installed package, not only from a source checkout."""

    def run(self):
        super().run()
        for region in ("quzhou", "comoros"):
            src = ROOT / "data" / region
            if src.is_dir():
                self.copy_tree(str(src), str(Path(self.build_lib) / "careshed" / "data" / region))


setup(version=cmake_project_version(),
      ext_modules=[CMakeExtension("careshed._core")],
      cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData})

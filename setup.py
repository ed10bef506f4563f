"""Builds careshed._core with CMake (the same CMakeLists.txt C++ users build) and packages it.

The CMake build directory is persistent (build/python-ext) so that re-installing after a small change
recompiles only what changed. Environment: CARESHED_BUILD_DIR overrides it; CARESHED_JOBS sets -j.
"""
import os
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("CARESHED_BUILD_DIR", ROOT / "build" / "python-ext")).resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        jobs = os.environ.get("CARESHED_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call([
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCARESHED_PYTHON=ON",
            "-DCARESHED_BUILD_TESTS=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ])
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


setup(ext_modules=[CMakeExtension("careshed._core")],
      cmdclass={"build_ext": CMakeBuild, "build_py": BuildPyWithData})

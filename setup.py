"""Builds the stencil._core extension with the project's CMake for `pip install .`.

pyproject.toml holds the package metadata; this file only supplies the build step setuptools
cannot do itself: configure CMake with STENCIL_BUILD_PYTHON=ON for the running interpreter, build
the stencil_python target, and have CMake write the extension straight into the wheel's stencil/
folder (STENCIL_PYTHON_OUTPUT_DIR). Tests, benchmarks and the CLI are not built.

Environment: STENCIL_CMAKE_ARGS adds CMake arguments (e.g. "-DSTENCIL_CUDA=OFF"), and
CMAKE_BUILD_PARALLEL_LEVEL sets the build's parallelism (default: every core).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    """An extension whose sources CMake knows; setuptools only needs its name."""

    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        # Where setuptools expects stencil/_core*.so: CMake writes the module there directly.
        output_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSTENCIL_BUILD_PYTHON=ON", "-DSTENCIL_BUILD_TESTS=OFF", "-DSTENCIL_BUILD_BENCH=OFF",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-DSTENCIL_PYTHON_OUTPUT_DIR={output_dir}",
            *shlex.split(os.environ.get("STENCIL_CMAKE_ARGS", "")),
        ]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "stencil_python", "-j", jobs], check=True)


setup(
    ext_modules=[CMakeExtension("stencil._core")],
    cmdclass={"build_ext": CMakeBuild},
    # Not build/: that is scripts/test's CMake tree. Kept between installs, so a reinstall is incremental.
    options={"build": {"build_base": "build-wheel"}},
)

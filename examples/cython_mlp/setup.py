"""Builds cython_mlp.mlp against the installed nnfast: its header folder (nnfast.get_include()) for
the C compiler, and the folder holding the nnfast package for Cython's `from nnfast cimport capi`."""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

import nnfast

package_parent = os.path.dirname(os.path.dirname(os.path.abspath(nnfast.__file__)))
extension = Extension("cython_mlp.mlp", ["cython_mlp/mlp.pyx"], include_dirs=[nnfast.get_include()],
                      extra_compile_args=["-O2"] if os.name != "nt" else [])
setup(packages=["cython_mlp"], ext_modules=cythonize([extension], include_path=[package_parent], language_level=3))

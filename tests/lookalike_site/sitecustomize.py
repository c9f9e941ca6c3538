"""Loaded by every Python process of the Windows look-alike job (`./dev test-windows-lookalike` puts this
folder on PYTHONPATH), children included: what a Windows PC lacks is taken away here.

- `signal.SIGKILL` does not exist (crash tests' failpoints fall back to terminating the process), and
  `Popen.kill()` is `terminate()`, as on Windows.
- Importing pyzbar's DLL wrapper raises FileNotFoundError, as libzbar-64.dll does without the Visual C++
  2013 runtime (and pyzbar is not even installed on Windows).
- tesserocr cannot be imported (it is not installed on Windows: OCR of printed text is optional there).

The rest (cp932 standard streams, EncodingWarning for files opened without an encoding) comes from the
job's environment variables; the in-process doubles (ACLs, fonts) from tests/conftest.py.
"""

from __future__ import annotations

import importlib.abc
import signal
import subprocess
import sys

if hasattr(signal, "SIGKILL"):
    del signal.SIGKILL
subprocess.Popen.kill = subprocess.Popen.terminate  # type: ignore[method-assign]

_ZBAR = ("pyzbar.pyzbar", "pyzbar.wrapper", "pyzbar.zbar_library")


class _NoZbarDll(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "tesserocr" or name.startswith("tesserocr."):
            raise ModuleNotFoundError("No module named 'tesserocr' (Windows look-alike)", name=name)
        if name in _ZBAR:
            raise FileNotFoundError("Could not find module 'libzbar-64.dll' (or one of its dependencies). "
                                    "Try using the full path with constructor syntax. (Windows look-alike)")


sys.meta_path.insert(0, _NoZbarDll())

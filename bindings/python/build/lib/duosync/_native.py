"""Finding, loading and declaring libduosync (the C ABI in capi/duosync.h) through ctypes."""

import ctypes
import ctypes.util
import os
import pathlib
import threading

from .errors import LibraryError, error_for

# The C ABI version this package was written against (DUO_VERSION_NUMBER = MAJOR*1e6 + MINOR*1e3
# + PATCH). Only the major number must match: the ABI only ever gains functions.
EXPECTED_VERSION_NUMBER = 4000

_REPO_BUILD = pathlib.Path(__file__).resolve().parents[3] / "build" / "libduosync.so"

_lock = threading.Lock()
_lib = None
_later = {}  # name: declared function, see function()


class ProjectHandle(ctypes.Structure):
    """Opaque duo_project_t."""


ProjectPtr = ctypes.POINTER(ProjectHandle)
# Out-strings the caller frees: c_void_p, so ctypes does not copy them and lose the pointer.
_ErrPtr = ctypes.POINTER(ctypes.c_void_p)

# typedef int (*duo_event_fn)(int event, const char* json, void* user_data). The json is borrowed
# for the call only: c_char_p makes ctypes copy it into bytes before the Python code runs.
EventFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
# A NULL duo_event_fn (ctypes refuses None for a CFUNCTYPE argument).
NO_EVENT_FN = EventFn()

# name: (restype, argtypes)
_SIGNATURES = {
    "duo_version": (ctypes.c_char_p, []),  # static storage: ctypes' copy is right
    "duo_version_number": (ctypes.c_int, []),
    "duo_free": (None, [ctypes.c_void_p]),
    "duo_validate": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t, _ErrPtr, _ErrPtr]),
    "duo_project_create": (
        ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ProjectPtr), _ErrPtr]),
    "duo_project_destroy": (None, [ProjectPtr]),
    "duo_project_precheck": (ctypes.c_int, [ProjectPtr, _ErrPtr, _ErrPtr]),
    "duo_project_start": (ctypes.c_int, [ProjectPtr, _ErrPtr]),
    "duo_project_stop": (ctypes.c_int, [ProjectPtr, _ErrPtr]),
    "duo_project_wait": (ctypes.c_int, [ProjectPtr, ctypes.c_int64, _ErrPtr]),
    "duo_project_status": (ctypes.c_int, [ProjectPtr, _ErrPtr, _ErrPtr]),
}

# Functions added in 0.2.0 (0.1.0 first shipped them without a change of its version
# number: a library may lack them, so they are looked up when first called, not at load time
# (an older library still serves everything else). name: (restype, argtypes)
_LATER_SIGNATURES = {
    "duo_set_log_level": (None, [ctypes.c_int]),
    "duo_project_conflicts": (ctypes.c_int, [ProjectPtr, _ErrPtr, _ErrPtr]),
    "duo_project_switchover": (ctypes.c_int, [ProjectPtr, ctypes.c_int, ctypes.c_int64, _ErrPtr]),
    "duo_project_verify": (ctypes.c_int, [ProjectPtr, ctypes.c_int, _ErrPtr, _ErrPtr]),
    "duo_project_pause": (ctypes.c_int, [ProjectPtr, ctypes.c_char_p, _ErrPtr]),
    "duo_project_resume": (ctypes.c_int, [ProjectPtr, ctypes.c_char_p, _ErrPtr]),
    "duo_project_set_event_callback": (
        ctypes.c_int, [ProjectPtr, EventFn, ctypes.c_void_p, _ErrPtr]),
    # 0.3.0
    "duo_project_replay": (
        ctypes.c_int, [ProjectPtr, ctypes.c_char_p, ctypes.c_char_p, _ErrPtr, _ErrPtr]),
    # 0.4.0
    "duo_project_listen": (
        ctypes.c_int, [ProjectPtr, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), _ErrPtr]),
}


def _candidates():
    """Where to look, in order, as (where the name came from, path or soname).

    A set environment variable is the only candidate: pointing it at nothing is an error, never a
    silent fallback to another library.
    """
    explicit = os.environ.get("DUOSYNC_LIBRARY")
    if explicit:
        return [("DUOSYNC_LIBRARY", explicit)]
    build_dir = os.environ.get("DUOSYNC_BUILD_DIR")
    if build_dir:
        return [("DUOSYNC_BUILD_DIR", os.path.join(build_dir, "libduosync.so"))]
    found = [("the repository's build tree", str(_REPO_BUILD))] if _REPO_BUILD.exists() else []
    system = ctypes.util.find_library("duosync")
    if system:
        found.append(("the system (find_library)", system))
    found.append(("the system", "libduosync.so.0"))
    return found


def _open():
    tried = []
    for where, path in _candidates():
        try:
            loaded = ctypes.CDLL(path)
            break
        except OSError as e:
            tried.append(f"{path} (from {where}): {e}")
    else:
        raise LibraryError(
            "cannot load libduosync; tried:\n  " + "\n  ".join(tried) +
            "\nset DUOSYNC_LIBRARY to the library's full path or DUOSYNC_BUILD_DIR to its "
            "build directory")
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(loaded, name)
        except AttributeError:
            raise LibraryError(f"{path} lacks {name}: not a compatible libduosync") from None
        fn.restype = restype
        fn.argtypes = argtypes
    got = loaded.duo_version_number()
    if got // 1000000 != EXPECTED_VERSION_NUMBER // 1000000:
        raise LibraryError(
            f"{path} is libduosync {loaded.duo_version().decode()} (version number {got}), but "
            f"this package needs major version {EXPECTED_VERSION_NUMBER // 1000000}; install a "
            "matching library or package")
    return loaded


def lib():
    """The loaded library, opened on first use so that importing the package never fails."""
    global _lib
    with _lock:
        if _lib is None:
            _lib = _open()
        return _lib


def function(name):
    """A function of _LATER_SIGNATURES, declared; LibraryError when the loaded library lacks it."""
    loaded = lib()
    with _lock:
        fn = _later.get(name)
        if fn is None:
            restype, argtypes = _LATER_SIGNATURES[name]
            try:
                fn = getattr(loaded, name)
            except AttributeError:
                raise LibraryError(
                    f"the loaded libduosync ({loaded.duo_version().decode()}) lacks {name}; "
                    "install a newer library") from None
            fn.restype = restype
            fn.argtypes = argtypes
            _later[name] = fn
        return fn


def take_string(ptr):
    """Copies a caller-owned C string (a c_void_p) into a str and frees it; None for NULL."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", errors="replace")
    finally:
        lib().duo_free(ptr)
        ptr.value = None


def call(fn, *args, with_out=False, ok_codes=()):
    """Calls `fn(*args, &err)`, or `fn(*args, &out, &err)` when with_out.

    Returns (code, out_string). Raises the matching duosync.Error unless the code is DUO_OK, or is
    in `ok_codes` and the out-string was filled (as precheck and validate do on failed checks).
    """
    err = ctypes.c_void_p()
    out_ptr = ctypes.c_void_p()
    full = args + ((ctypes.byref(out_ptr),) if with_out else ()) + (ctypes.byref(err),)
    code = fn(*full)
    text = take_string(out_ptr)
    message = take_string(err)
    if code == 0 or (code in ok_codes and text is not None):
        return code, text
    raise error_for(code, message)

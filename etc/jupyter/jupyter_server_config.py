"""JupyterLab as ``make lab`` starts it: kernels talk over IPC (Unix-domain) sockets.

The Makefile's ``lab`` target puts this folder on ``JUPYTER_CONFIG_PATH``, so a learner's own
``~/.jupyter`` settings still apply (and win). With IPC each kernel's sockets sit beside its
connection file in Jupyter's private runtime folder (``kernel-<id>-ipc-1`` ... ``-5``): no two
kernels can race for a TCP port, and ipykernel no longer warns at every start that the kernel
"is running over TCP without encryption". Where Unix-domain sockets are missing (Windows), or
the runtime folder's path is too long for a socket name (104 bytes on macOS, 108 on Linux),
kernels keep Jupyter's default, TCP on loopback.
"""

import os
import socket
import sys

from jupyter_core.paths import jupyter_runtime_dir

c = get_config()  # noqa: F821 - traitlets defines get_config() while it loads this file

#: the longest socket name a kernel gets in the runtime folder
_SOCKET_NAME = "/kernel-00000000-0000-0000-0000-000000000000-ipc-99"
_fits = len(os.fsencode(jupyter_runtime_dir() + _SOCKET_NAME)) <= 100
if sys.platform != "win32" and hasattr(socket, "AF_UNIX") and _fits:
    c.KernelManager.transport = "ipc"

# A quiet first screen: no "get notified about official Jupyter news?" toast and no request to
# the news feed or the release check (the announcements plugin is also disabled for the page in
# labconfig/page_config.json, beside this file)
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"

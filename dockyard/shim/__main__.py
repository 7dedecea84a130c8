"""python -m dockyard.shim --exec-root DIR [--log FILE]"""
import sys

from .main import main

sys.exit(main())

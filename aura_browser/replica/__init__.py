"""An embedded replica of the OpenChat UI site and its Cloudflare-like gate, for the demo and the tests."""

from .config import ReplicaConfig
from .reply import reply_text
from .server import CannotListen, ReplicaServer, serve
from .state import ReplicaStats

__all__ = ["CannotListen", "ReplicaConfig", "ReplicaServer", "ReplicaStats", "reply_text", "serve"]

"""The local API the Node-RED nodes use: HTTP for reads and relay commands, a websocket for
point changes and events. Off unless ``api.enabled``; see docs/NODE-RED.md."""

from .server import PREFIX, STREAM_PATH, ApiError, ApiServer, start_api

__all__ = ["PREFIX", "STREAM_PATH", "ApiError", "ApiServer", "start_api"]

# Schemathesis hooks for scripts/api-fuzz (SCHEMATHESIS_HOOKS).
# tus 1.0's PATCH body is raw bytes under its own media type: send it as
# application/octet-stream is sent (schemathesis knows no serializer for it).
import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

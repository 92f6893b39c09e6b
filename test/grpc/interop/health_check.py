"""Non-Node gRPC health client for the interop test: grpcio + grpcio-health-checking from PyPI.

Usage: health_check.py ADDRESS=SERVICE [ADDRESS=SERVICE ...]   (SERVICE may be empty for the server as a whole)
Prints one JSON object per check: {"address", "service", "status"} or {"address", "service", "error", "code"}.
"""

import json
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str) -> dict:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            return {"address": address, "service": service, "status": status}
        except grpc.RpcError as err:  # NOT_FOUND for unknown services, UNAVAILABLE when down
            return {"address": address, "service": service, "error": err.details(), "code": err.code().name}


def main() -> int:
    for arg in sys.argv[1:]:
        address, _, service = arg.partition("=")
        print(json.dumps(check(address, service)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

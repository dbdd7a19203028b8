"""gRPC plumbing shared by every service: servers, channels, the edge interceptor, stubs (pb/)."""

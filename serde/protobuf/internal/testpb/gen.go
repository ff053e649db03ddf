// Package testpb holds generated messages for the Protobuf serializer's tests:
// Customer and nested Order types (customer.proto), an imported file
// (address.proto) and a file without imports (plain.proto).
//
// Regenerate with protoc (e.g. grpcio-tools' python -m grpc_tools.protoc) and
// protoc-gen-go of the google.golang.org/protobuf version in go.mod on PATH:
//
//go:generate protoc -I. --go_out=. --go_opt=paths=source_relative address.proto customer.proto plain.proto
package testpb

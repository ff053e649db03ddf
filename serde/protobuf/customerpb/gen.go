// Package customerpb is the seeds' Customer example as generated Protobuf code, for
// the README and the examples of kprod/serde/protobuf: programs use the package
// protoc-gen-go generates from their own .proto files the same way.
//
// Regenerate with protoc (e.g. grpcio-tools' python -m grpc_tools.protoc) and
// protoc-gen-go of the google.golang.org/protobuf version in go.mod on PATH:
//
//go:generate protoc -I. --go_out=. --go_opt=paths=source_relative customer.proto
package customerpb

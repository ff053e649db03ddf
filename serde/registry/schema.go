package registry

// Reference is a schema reference: the schema registered under Subject at Version,
// imported under Name by the referring schema.
type Reference struct {
	// Name is how the referring schema imports it.
	Name string
	// Subject and Version are where it is registered.
	Subject string
	Version int
}

// Schema is a schema as the registry stores it.
type Schema struct {
	// Type is "AVRO" (also ""), "JSON" or "PROTOBUF".
	Type string
	// Text is the schema text, registered exactly as given.
	Text string
	// References are the schemas this one imports.
	References []Reference
}

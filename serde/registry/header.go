package registry

// magic is the first byte of every record in Confluent's wire format.
const magic = 0

// AppendHeader appends the Confluent wire-format header to dst: the magic byte 0
// and id as four big-endian bytes. id must satisfy ValidID (1..MaxInt32), as every
// id a Resolver returns does: the client refuses a registry answer outside it
// rather than let it be truncated here into another schema's id.
func AppendHeader(dst []byte, id int) []byte {
	return append(dst, magic, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}

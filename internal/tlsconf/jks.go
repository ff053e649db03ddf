package tlsconf

import (
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// JKS, Java's original keystore format and still Kafka's default
// ssl.keystore.type / ssl.truststore.type (sun.security.provider.JavaKeyStore):
//
//	magic 0xFEEDFEED, version 1 or 2, entry count, entries, SHA-1 integrity digest
//	entry: tag (1 private key, 2 trusted certificate), alias (modified UTF-8), date,
//	  key: protected PKCS#8 key, certificate chain; certificate: one certificate
//	  (version 2 prefixes each certificate with its type, "X.509")
//
// The digest is SHA-1 over the store password as UTF-16BE, the string "Mighty
// Aphrodite" and every byte before it; Java skips the check when no password is
// given, and so does this reader. Key entries are protected with Sun's
// KeyProtector: a SHA-1 keystream from the key password and a salt, XORed with
// the PKCS#8 key, and a SHA-1 check of the result.

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

var oidSunKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

// jksEntry is a JKS key entry: the PKCS#8 key (still protected) and its chain.
type jksKey struct {
	protected []byte
	chain     []*x509.Certificate
}

// jksStore is what a JKS file holds.
type jksStore struct {
	keys    []jksKey
	trusted []*x509.Certificate
}

// isJKS reports whether data starts like a JKS or JCEKS file.
func isJKS(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	m := binary.BigEndian.Uint32(data)
	return m == jksMagic || m == jceksMagic
}

// errJKSIntegrity means the store password does not match the file's digest.
var errJKSIntegrity = errors.New("keystore password was incorrect (the JKS integrity check failed)")

// parseJKS reads a JKS file; with a non-empty password it checks the digest first.
func parseJKS(data []byte, password string) (*jksStore, error) {
	r := jksReader{b: data}
	magic := r.u32("magic number")
	if magic == jceksMagic {
		return nil, errors.New("this is a JCEKS keystore, which kprod does not read; convert it with `keytool -importkeystore -deststoretype PKCS12`")
	}
	if magic != jksMagic {
		return nil, errors.New("not a JKS keystore")
	}
	// Even an empty store has a version, an entry count and a digest.
	if len(data) < 8+4+20 {
		return nil, fmt.Errorf("truncated JKS keystore: %d bytes, and an empty one has 32", len(data))
	}
	version := r.u32("version")
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("unsupported JKS version %d", version)
	}
	if password != "" {
		h := sha1.New()
		h.Write(utf16BE(password))
		h.Write([]byte("Mighty Aphrodite"))
		h.Write(data[:len(data)-20])
		if subtle.ConstantTimeCompare(h.Sum(nil), data[len(data)-20:]) != 1 {
			return nil, errJKSIntegrity
		}
	}
	r.b = data[8 : len(data)-20]
	count := r.u32("entry count")
	st := &jksStore{}
	cert := func() *x509.Certificate {
		if version == 2 {
			if typ := r.utf("certificate type"); typ != "X.509" && r.err == nil {
				r.fail(fmt.Errorf("certificate of type %q", clip(typ)))
			}
		}
		der := r.bytes("certificate")
		if r.err != nil {
			return nil
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			r.fail(fmt.Errorf("certificate: %v", err))
		}
		return c
	}
	for i := uint32(0); i < count; i++ {
		tag := r.u32("entry tag")
		r.utf("alias")
		r.u64("creation date")
		switch tag {
		case 1:
			k := jksKey{protected: r.bytes("protected key")}
			n := r.u32("chain length")
			if n > 64 {
				r.fail(fmt.Errorf("certificate chain of %d certificates", n))
			}
			for j := uint32(0); j < n && r.err == nil; j++ {
				k.chain = append(k.chain, cert())
			}
			st.keys = append(st.keys, k)
		case 2:
			st.trusted = append(st.trusted, cert())
		default:
			r.fail(fmt.Errorf("unknown JKS entry tag %d", tag))
		}
		if r.err != nil {
			return nil, fmt.Errorf("malformed JKS keystore: entry %d of %d: %w", i+1, count, r.err)
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("malformed JKS keystore: the entries end %d bytes before the digest", len(r.b))
	}
	return st, nil
}

// recoverJKSKey undoes Sun's KeyProtector and returns the PKCS#8 key.
func recoverJKSKey(protected []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(protected, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed protected key")
	}
	if !info.Algorithm.Algorithm.Equal(oidSunKeyProtector) {
		return nil, fmt.Errorf("key protected with an unsupported algorithm (OID %s)", clip(info.Algorithm.Algorithm.String()))
	}
	enc := info.Data
	const n = sha1.Size
	if len(enc) < 2*n+1 {
		return nil, errors.New("malformed protected key")
	}
	salt, body, check := enc[:n], enc[n:len(enc)-n], enc[len(enc)-n:]
	pw := utf16BE(password)
	plain := make([]byte, len(body))
	digest := salt
	for off := 0; off < len(body); off += n {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for i := 0; i < n && off+i < len(body); i++ {
			plain[off+i] = body[off+i] ^ digest[i]
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(plain)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil, errWrongPassword
	}
	return plain, nil
}

// utf16BE is a Java password's chars as big-endian bytes, as JKS hashes them.
func utf16BE(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return out
}

// jksReader reads big-endian fields, remembering the first error.
type jksReader struct {
	b   []byte
	err error
}

func (r *jksReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

// take returns the next n bytes of the field what. A corrupt file's length can be
// anything up to 2^32-1, so the error names the field and both sizes.
func (r *jksReader) take(n uint32, what string) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail(fmt.Errorf("%s needs %d bytes, %d are left before the digest", what, n, len(r.b)))
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *jksReader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *jksReader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// utf reads a DataInput UTF string (length-prefixed modified UTF-8); only
// certificate types are compared, and they are ASCII.
func (r *jksReader) utf(what string) string {
	var n uint32
	if b := r.take(2, what+" length"); b != nil {
		n = uint32(binary.BigEndian.Uint16(b))
	}
	return string(r.take(n, what))
}

// bytes reads a length-prefixed byte array.
func (r *jksReader) bytes(what string) []byte { return r.take(r.u32(what+" length"), what) }

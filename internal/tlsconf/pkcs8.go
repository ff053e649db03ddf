package tlsconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// Encrypted PKCS#8 private keys (RFC 5958 EncryptedPrivateKeyInfo).
//
// Java's PEM keystore (DefaultSslEngineFactory.PemStore) decrypts them with
// SecretKeyFactory.getInstance(algorithm name), which knows the PBES1 schemes
// (PKCS#5 v1.5 and PKCS#12 PBE, e.g. `openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES`) but
// not PBES2, OpenSSL 3's default. kprod accepts both: PBES2 with PBKDF2 (HMAC-SHA1/
// SHA-2) and AES-CBC or (3)DES-CBC, and the PBES1 schemes with DES or 3DES. RC2,
// RC4 and scrypt have no stdlib implementation and are refused by name.

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	oidAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3   = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidDESCBC    = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}

	// PBES1 of PKCS#5 v1.5 (PBKDF1).
	oidPBEMD5DES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBESHA1DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	// PBES1 of PKCS#12 (RFC 7292 appendix B key derivation).
	oidPBESHA13DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBESHA12DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
)

// unsupportedPBE names the password-based schemes refused for want of a cipher.
var unsupportedPBE = map[string]string{
	"1.2.840.113549.1.12.1.1": "PBE-SHA1-RC4-128",
	"1.2.840.113549.1.12.1.2": "PBE-SHA1-RC4-40",
	"1.2.840.113549.1.12.1.5": "PBE-SHA1-RC2-128",
	"1.2.840.113549.1.12.1.6": "PBE-SHA1-RC2-40",
	"1.2.840.113549.1.5.6":    "PBE-MD5-RC2-64",
	"1.2.840.113549.1.5.11":   "PBE-SHA1-RC2-64",
	"1.2.840.113549.1.5.1":    "PBE-MD2-DES",
	"1.2.840.113549.1.5.4":    "PBE-MD2-RC2-64",
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type pbes1Params struct {
	Salt       []byte
	Iterations int
}

// errWrongPassword is the cause when decryption yields no valid key; a wrong
// password is by far the likeliest reason, and the message never shows it.
var errWrongPassword = errors.New("cannot decrypt the private key: wrong password, or a corrupted key")

// isEncryptedPKCS8 reports whether der parses as an EncryptedPrivateKeyInfo.
func isEncryptedPKCS8(der []byte) bool {
	var info encryptedPrivateKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	return err == nil && len(rest) == 0 && len(info.Algorithm.Algorithm) > 0
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo and returns the PKCS#8
// PrivateKeyInfo inside.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, errors.New("not an encrypted PKCS#8 private key")
	}
	alg := info.Algorithm
	var (
		block cipher.Block
		iv    []byte
		err   error
	)
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		block, iv, err = pbes2Cipher(alg.Parameters.FullBytes, password)
	case alg.Algorithm.Equal(oidPBESHA13DES), alg.Algorithm.Equal(oidPBESHA12DES):
		block, iv, err = pkcs12Cipher(alg, password)
	case alg.Algorithm.Equal(oidPBEMD5DES), alg.Algorithm.Equal(oidPBESHA1DES):
		block, iv, err = pbkdf1Cipher(alg, password)
	default:
		if name, ok := unsupportedPBE[alg.Algorithm.String()]; ok {
			return nil, fmt.Errorf("the key is encrypted with %s, which Go's standard library cannot decrypt; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc` (or -v1 PBE-SHA1-3DES for Java too)", name)
		}
		return nil, fmt.Errorf("the key is encrypted with an unknown scheme (OID %s)", clip(alg.Algorithm.String()))
	}
	if err != nil {
		return nil, err
	}
	if len(info.Data) == 0 || len(info.Data)%block.BlockSize() != 0 {
		return nil, errWrongPassword
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	out, ok := unpad(out, block.BlockSize())
	if !ok {
		return nil, errWrongPassword
	}
	// Valid padding is no proof: a wrong password yields a last byte of 1 once in
	// 256 tries. Garbage is not a whole PrivateKeyInfo, and saying so as a
	// malformed key would send the user to the key instead of the password. A
	// decryption that is one, of an algorithm kprod cannot use, still reaches
	// parsePKCS8 and its precise error.
	var key privateKeyInfo
	if rest, err := asn1.Unmarshal(out, &key); err != nil || len(rest) != 0 {
		return nil, errWrongPassword
	}
	return out, nil
}

// privateKeyInfo is the outer structure of a PKCS#8 key (RFC 5958
// OneAsymmetricKey; the optional fields that follow need no declaring).
type privateKeyInfo struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// unpad removes PKCS#7 padding, checking every padding byte.
func unpad(b []byte, size int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > size || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// pbes2Cipher derives the key of a PBES2 scheme (RFC 8018 section 6.2).
func pbes2Cipher(params []byte, password string) (cipher.Block, []byte, error) {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("malformed PBES2 parameters")
	}
	if p.KDF.Algorithm.Equal(oidScrypt) {
		return nil, nil, errors.New("the key is encrypted with scrypt, which kprod does not support; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("unsupported PBES2 key derivation (OID %s)", clip(p.KDF.Algorithm.String()))
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("malformed PBKDF2 parameters")
	}
	if err := checkIterations("PBKDF2", kdf.Iterations); err != nil {
		return nil, nil, err
	}
	var prf func() hash.Hash
	switch a := kdf.PRF.Algorithm; {
	case len(a) == 0, a.Equal(oidHMACSHA1):
		prf = sha1.New
	case a.Equal(oidHMACSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACSHA256):
		prf = sha256.New
	case a.Equal(oidHMACSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, nil, fmt.Errorf("unsupported PBKDF2 pseudo-random function (OID %s)", clip(a.String()))
	}

	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch s := p.Scheme.Algorithm; {
	case s.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case s.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case s.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case s.Equal(oidDESEDE3):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	case s.Equal(oidDESCBC):
		keyLen, newCipher = 8, des.NewCipher
	default:
		return nil, nil, fmt.Errorf("unsupported PBES2 encryption scheme (OID %s)", clip(s.String()))
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, nil, fmt.Errorf("PBKDF2 key length %d does not fit the cipher", kdf.KeyLength)
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, nil, errors.New("malformed PBES2 cipher parameters")
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("PBKDF2: %v", err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, nil, err
	}
	if len(iv) != block.BlockSize() {
		return nil, nil, errors.New("PBES2 IV length does not fit the cipher")
	}
	return block, iv, nil
}

func parsePBES1(alg pkix.AlgorithmIdentifier) (pbes1Params, error) {
	var p pbes1Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return p, errors.New("malformed PBES1 parameters")
	}
	if err := checkIterations("PBES1", p.Iterations); err != nil {
		return p, err
	}
	return p, nil
}

// maxIterations bounds a key derivation's iteration count, which sets what
// decrypting costs, and the whole cost is paid before a wrong password or a
// corrupted key shows: a count of 2^31 would hash for a quarter of an hour.
// OpenSSL writes 2048 and keytool 10000; Java's PKCS12 and JCEKS readers refuse
// more than 5,000,000, and so does kprod, which at that bound spends about two
// seconds of a core on the costliest scheme it reads (PBKDF2 for a 32-byte key
// from a 20- or 28-byte hash: two blocks).
const maxIterations = 5_000_000

// checkIterations says why an iteration count is refused, naming the derivation.
func checkIterations(kdf string, n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("%s iteration count %d is not positive", kdf, n)
	case n > maxIterations:
		return fmt.Errorf("%s iteration count %d exceeds %d, the most Java's key stores accept", kdf, n, maxIterations)
	}
	return nil
}

// pkcs12Cipher derives the 3DES key and IV of pbeWithSHAAnd3-KeyTripleDES-CBC and
// pbeWithSHAAnd2-KeyTripleDES-CBC (RFC 7292 appendix B, SHA-1).
func pkcs12Cipher(alg pkix.AlgorithmIdentifier, password string) (cipher.Block, []byte, error) {
	p, err := parsePBES1(alg)
	if err != nil {
		return nil, nil, err
	}
	pw := bmpString(password)
	key := pkcs12KDF(pw, p.Salt, p.Iterations, 1, 24)
	if alg.Algorithm.Equal(oidPBESHA12DES) {
		copy(key[16:], key[:8]) // two-key 3DES: K3 = K1
	}
	iv := pkcs12KDF(pw, p.Salt, p.Iterations, 2, 8)
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, nil, err
	}
	return block, iv, nil
}

// pbkdf1Cipher derives the DES key and IV of pbeWithMD5AndDES-CBC and
// pbeWithSHA1AndDES-CBC (RFC 8018 section 6.1, PBKDF1).
func pbkdf1Cipher(alg pkix.AlgorithmIdentifier, password string) (cipher.Block, []byte, error) {
	p, err := parsePBES1(alg)
	if err != nil {
		return nil, nil, err
	}
	h := md5.New
	if alg.Algorithm.Equal(oidPBESHA1DES) {
		h = sha1.New
	}
	d := h()
	d.Write([]byte(password))
	d.Write(p.Salt)
	t := d.Sum(nil)
	for i := 1; i < p.Iterations; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	block, err := des.NewCipher(t[:8])
	if err != nil {
		return nil, nil, err
	}
	return block, t[8:16], nil
}

// bmpString encodes a password as PKCS#12 wants it: UTF-16 big endian with a
// terminating NUL (RFC 7292 appendix B.1). An empty password is two zero bytes.
func bmpString(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2 with SHA-1 (u = 20,
// v = 64): id 1 derives key material, 2 an IV, 3 a MAC key.
func pkcs12KDF(password, salt []byte, iterations int, id byte, size int) []byte {
	const u, v = sha1.Size, 64
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fill(salt), fill(password)...) // I = S || P
	out := make([]byte, 0, size+u)
	for len(out) < size {
		h := sha1.New()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for range iterations - 1 {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(v*8) for every v-byte block of I, B = A repeated.
		b := fill(a)[:v]
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(in[j+k]) + int(b[k]) + carry
				in[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}

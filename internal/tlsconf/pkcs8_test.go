package tlsconf

import (
	"bytes"
	"crypto/cipher"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEncryptedKeys decrypts the key OpenSSL encrypted with each PBES1 and PBES2
// scheme (testdata/gen.sh) and compares it with the plain key: PBES1 is what Java
// accepts, PBES2 OpenSSL 3's default, and kprod reads both.
func TestEncryptedKeys(t *testing.T) {
	plain, err := pemKey(readFixture(t, "client.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := plain
	for _, scheme := range []string{"pbes1-sha1-3des", "pbes1-sha1-2des", "pbes1-md5-des", "pbes1-sha1-des",
		"pbes2-aes256-sha256", "pbes2-aes128-sha1", "pbes2-des3-sha1"} {
		t.Run(scheme, func(t *testing.T) {
			text := readFixture(t, "client."+scheme+".key")
			k, err := pemKey(text, fixtureKeyPassword)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !sameKey(want, k) {
				t.Fatal("decrypted key differs from client.key")
			}
			if _, err := pemKey(text, "wrong-password"); !errors.Is(err, errWrongPassword) {
				t.Errorf("wrong password: %v, want errWrongPassword", err)
			}
			if _, err := pemKey(text, ""); err == nil || !strings.Contains(err.Error(), "set ssl.key.password") {
				t.Errorf("no password: %v, want a request for ssl.key.password", err)
			}
		})
	}
}

// TestEncryptedKeysRefused: schemes without a stdlib cipher are refused by name,
// with what to do instead, and never with the password.
func TestEncryptedKeysRefused(t *testing.T) {
	for scheme, want := range map[string]string{"pbes1-sha1-rc2-40": "PBE-SHA1-RC2-40", "scrypt": "scrypt"} {
		_, err := pemKey(readFixture(t, "client."+scheme+".key"), fixtureKeyPassword)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "openssl pkcs8") {
			t.Errorf("%s: %v, want a refusal naming %s", scheme, err, want)
		}
		if err != nil && strings.Contains(err.Error(), fixtureKeyPassword) {
			t.Errorf("%s: error shows the password: %v", scheme, err)
		}
	}
}

// TestPKCS12KDF checks the RFC 7292 appendix B derivation against the classic
// vector of OpenSSL's and Bouncy Castle's PKCS#12 tests (password "smeg", salt
// 0A58CF64530D823F, one iteration).
func TestPKCS12KDF(t *testing.T) {
	salt := []byte{0x0A, 0x58, 0xCF, 0x64, 0x53, 0x0D, 0x82, 0x3F}
	got := pkcs12KDF(bmpString("smeg"), salt, 1, 1, 24)
	const want = "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
	if h := hex.EncodeToString(got); h != want {
		t.Fatalf("key = %s, want %s", h, want)
	}
	iv := pkcs12KDF(bmpString("smeg"), salt, 1, 2, 8)
	if h := hex.EncodeToString(iv); h != "79993dfe048d3b76" {
		t.Fatalf("iv = %s", h)
	}
}

// TestIterationBound: an iteration count, which sets what decrypting costs, is
// refused above Java's bound and below one, naming the derivation and the count,
// before any hashing.
func TestIterationBound(t *testing.T) {
	encrypted := func(alg asn1.ObjectIdentifier, params any) []byte {
		p, err := asn1.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		der, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: alg, Parameters: asn1.RawValue{FullBytes: p}}, Data: make([]byte, 16)})
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	pbes2 := func(iterations int) []byte {
		kdf, _ := asn1.Marshal(pbkdf2Params{Salt: make([]byte, 8), Iterations: iterations})
		iv, _ := asn1.Marshal(make([]byte, 16))
		return encrypted(oidPBES2, pbes2Params{
			KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
			Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: iv}},
		})
	}
	for _, n := range []int{0, -1, maxIterations + 1, 1 << 40} {
		want := "is not positive"
		if n > 0 {
			want = "exceeds 5000000"
		}
		for name, der := range map[string][]byte{
			"PBKDF2": pbes2(n),
			"PBES1":  encrypted(oidPBESHA13DES, pbes1Params{Salt: make([]byte, 8), Iterations: n}),
		} {
			start := time.Now()
			_, err := decryptPKCS8(der, "pw")
			if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("%s iteration count %d ", name, n)) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s, %d iterations: %v", name, n, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s, %d iterations: refused after %v", name, n, d)
			}
		}
	}
	if err := checkIterations("PBKDF2", maxIterations); err != nil {
		t.Errorf("at the bound: %v", err)
	}
}

// TestDecryptedGarbage: a decryption whose padding happens to be valid (a wrong
// password gives that once in 256 tries) but which is no PrivateKeyInfo, or
// one with bytes after it, reports a wrong password; a well-formed key of an
// algorithm kprod cannot use says so.
func TestDecryptedGarbage(t *testing.T) {
	blocks, err := parsePEM(readFixture(t, "client.pbes2-aes128-sha1.key"))
	if err != nil {
		t.Fatal(err)
	}
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(blocks[0].der, &info); err != nil {
		t.Fatal(err)
	}
	plain, err := decryptPKCS8(blocks[0].der, fixtureKeyPassword)
	if err != nil {
		t.Fatal(err)
	}
	// encrypt re-encrypts a chosen plaintext under the fixture's scheme and password.
	encrypt := func(plaintext []byte) []byte {
		block, iv, err := pbes2Cipher(info.Algorithm.Parameters.FullBytes, fixtureKeyPassword)
		if err != nil {
			t.Fatal(err)
		}
		n := block.BlockSize() - len(plaintext)%block.BlockSize()
		padded := append(append([]byte{}, plaintext...), bytes.Repeat([]byte{byte(n)}, n)...)
		c := info
		c.Data = make([]byte, len(padded))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(c.Data, padded)
		der, err := asn1.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	unknown, err := asn1.Marshal(privateKeyInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}}, PrivateKey: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		plaintext []byte
		want      string
	}{
		"garbage":        {[]byte("not a key at all"), errWrongPassword.Error()},
		"trailing bytes": {append(append([]byte{}, plain...), 1, 2, 3), errWrongPassword.Error()},
		"unknown key":    {unknown, "malformed PKCS#8 private key: x509: PKCS#8 wrapping contained private key with unknown algorithm"},
		"client.key":     {plain, ""},
	} {
		_, err := parseKey(pemBlock{label: "ENCRYPTED PRIVATE KEY", der: encrypt(c.plaintext)}, fixtureKeyPassword)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

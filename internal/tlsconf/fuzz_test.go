package tlsconf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The key and trust stores are files a user names, so their parsers meet whatever
// bytes such a file holds. These targets check that any input gives either a
// usable result or an error a person can act on: never a panic, a hang or an
// allocation out of proportion to the input.

// fuzzMaxInput bounds what the targets read: real stores and keys are a few KiB,
// and longer inputs only slow the fuzzer down without reaching other code.
const fuzzMaxInput = 64 << 10

// seedTruncations adds data and cuts of it: files that ended early are the
// likeliest corruption, and each cut lands the parser in another field.
func seedTruncations(f *testing.F, data []byte) {
	f.Add(data)
	for _, n := range []int{len(data) - 1, len(data) - 20, len(data) - 21, len(data) / 2, len(data) / 3, 40, 12, 8, 4} {
		if n > 0 && n < len(data) {
			f.Add(data[:n])
		}
	}
}

func fixtureBytes(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// encryptedKeyFixtures are the fixtures holding one ENCRYPTED PRIVATE KEY block
// (testdata/gen.sh), including the schemes kprod refuses.
var encryptedKeyFixtures = []string{
	"client.pbes1-sha1-3des.key", "client.pbes1-sha1-2des.key", "client.pbes1-md5-des.key", "client.pbes1-sha1-des.key",
	"client.pbes2-aes256-sha256.key", "client.pbes2-aes128-sha1.key", "client.pbes2-des3-sha1.key",
	"client.pbes1-sha1-rc2-40.key", "client.scrypt.key",
}

// checkError asserts what every error of these parsers owes the person reading
// it: a one-line message, short whatever the file holds, that starts with one of
// the forms the parser words its errors in (so it names the format and what was
// wrong), never shows a password, and does not carry the "kprod:" prefix the
// package's *Error adds around it.
func checkError(t *testing.T, what string, err error, forms []string, passwords ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: nil error", what)
	}
	msg := err.Error()
	switch {
	case msg == "":
		t.Fatalf("%s: empty error message", what)
	case strings.TrimSpace(msg) != msg || strings.ContainsAny(msg, "\r\n"):
		t.Fatalf("%s: error is not one trimmed line: %q", what, msg)
	case strings.HasPrefix(msg, "kprod:"):
		t.Fatalf("%s: error carries the prefix *Error adds: %q", what, msg)
	case len(msg) > 512:
		t.Fatalf("%s: error of %d bytes", what, len(msg))
	case fmtMistake.MatchString(msg):
		t.Fatalf("%s: error has a formatting mistake: %q", what, msg)
	}
	for _, p := range passwords {
		if strings.Contains(msg, p) {
			t.Fatalf("%s: error shows the password: %q", what, msg)
		}
	}
	for _, f := range forms {
		if strings.HasPrefix(msg, f) {
			return
		}
	}
	t.Fatalf("%s: error %q is none of the forms %q", what, msg, forms)
}

// fmtMistake matches what fmt writes for a verb without its argument, of the wrong
// type, or an argument too many; a bare "%!" can come from the file.
var fmtMistake = regexp.MustCompile(`%!([a-zA-Z]\(|\()`)

// The forms each parser's errors start with.
var (
	jksErrorForms = []string{"not a JKS keystore", "this is a JCEKS keystore", "unsupported JKS version",
		"truncated JKS keystore", "malformed JKS keystore: ", errJKSIntegrity.Error()}
	pemErrorForms = []string{errNoPEM.Error(), "PEM block "}
	keyErrorForms = []string{
		"malformed PKCS#8 private key", "malformed PKCS#1 RSA key: ", "malformed SEC 1 EC key: ",
		"not an encrypted PKCS#8 private key", "the private key is encrypted: ", "the key is encrypted with ",
		"the key uses OpenSSL's legacy PEM encryption", "DSA keys cannot be used", "private key of type ",
		"malformed PBES2 ", "malformed PBES1 ", "malformed PBKDF2 ", "unsupported PBES2 ", "unsupported PBKDF2 ",
		"PBKDF2 ", "PBES1 ", "PBES2 ", errWrongPassword.Error(),
	}
	jksKeyErrorForms = append([]string{"malformed protected key", "key protected with an unsupported algorithm",
		"holds no private key entry", "holds ", "no certificate for the private key",
		"no certificate in the chain matches the private key", "unsupported private key"}, keyErrorForms...)
)

// checkSigns asserts that key can do what TLS asks of it, sign, and that pub (its
// certificate's key) verifies the signature.
func checkSigns(t *testing.T, what string, key crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	msg := []byte("kprod fuzz")
	digest := sha256.Sum256(msg)
	var sig []byte
	var err error
	if _, ok := key.(ed25519.PrivateKey); ok {
		sig, err = key.Sign(rand.Reader, msg, crypto.Hash(0))
	} else {
		sig, err = key.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
	if err != nil {
		t.Fatalf("%s: parsed key (%T) cannot sign: %v", what, key, err)
	}
	ok := false
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, msg, sig)
	}
	if !ok {
		t.Fatalf("%s: signature of the %T does not verify with the %T", what, key, pub)
	}
}

// samePublic reports whether two public keys have the same encoding: an oracle
// independent of the Equal methods certificate relies on.
func samePublic(a, b crypto.PublicKey) bool {
	da, errA := x509.MarshalPKIXPublicKey(a)
	db, errB := x509.MarshalPKIXPublicKey(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}

// checkKeyAndChain asserts certificate's contract for a key that parsed: it pairs
// the key with a chain exactly when some certificate holds the key's public half,
// puts that certificate first, and the pair can sign and verify.
func checkKeyAndChain(t *testing.T, what string, key crypto.Signer, chain []*x509.Certificate) {
	t.Helper()
	checkSigns(t, what, key, key.Public())
	matches := false
	for _, c := range chain {
		matches = matches || samePublic(key.Public(), c.PublicKey)
	}
	cert, err := certificate(key, chain)
	switch {
	case err != nil && matches:
		t.Fatalf("%s: a certificate holds the key's public half, yet: %v", what, err)
	case err != nil:
		checkError(t, what, err, jksKeyErrorForms)
	case !matches:
		t.Fatalf("%s: paired the key with a chain none of whose certificates holds its public half", what)
	case !samePublic(cert.Leaf.PublicKey, key.Public()) || !bytes.Equal(cert.Certificate[0], cert.Leaf.Raw):
		t.Fatalf("%s: the leaf is not the key's certificate", what)
	case len(cert.Certificate) != len(chain):
		t.Fatalf("%s: chain of %d certificates became %d", what, len(chain), len(cert.Certificate))
	default:
		checkSigns(t, what, key, cert.Leaf.PublicKey)
	}
}

// FuzzParseJKS reads any bytes as a JKS store without a password (Java skips the
// integrity check then, and so the fuzzer reaches the entries), and then as
// loadTrusted and loadKeyEntry use it.
func FuzzParseJKS(f *testing.F) {
	for _, name := range []string{"truststore.jks", "client.jks"} {
		seedTruncations(f, fixtureBytes(f, name))
	}
	// Empty stores of both versions, their digests made for "".
	for _, v := range []byte{1, 2} {
		f.Add(jksSetDigest(append([]byte{0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, v, 0, 0, 0, 0}, make([]byte, sha1.Size)...), ""))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		st, err := parseJKS(data, "")
		if err != nil {
			checkError(t, "parseJKS", err, jksErrorForms)
			if _, err := loadKeyEntry(data, "", fixtureKeyPassword); err == nil {
				t.Fatal("loadKeyEntry read a store parseJKS refused")
			}
			return
		}

		// Every entry takes at least a tag, an alias length, a date and a length
		// (18 bytes) after the 12-byte header, before the 20-byte digest: the
		// store holds no more entries than its bytes can.
		if n := len(st.keys) + len(st.trusted); n*18 > len(data)-32 {
			t.Fatalf("%d entries from %d bytes", n, len(data))
		}
		// What it returns is in the file, and complete.
		for _, c := range st.trusted {
			if c == nil || !bytes.Contains(data, c.Raw) {
				t.Fatal("trusted certificate missing or not from the file")
			}
		}
		for _, k := range st.keys {
			if !bytes.Contains(data, k.protected) || len(k.chain) > 64 {
				t.Fatalf("key entry not from the file, or a chain of %d", len(k.chain))
			}
			for _, c := range k.chain {
				if c == nil || !bytes.Contains(data, c.Raw) {
					t.Fatal("chain certificate missing or not from the file")
				}
			}
		}

		// The digest covers what was parsed: made right for the store password,
		// the same store reads with the check; left as it is, it reads the same
		// or fails the check, nothing else.
		signed, err := parseJKS(jksSetDigest(data, fixtureStorePassword), fixtureStorePassword)
		if err != nil || len(signed.keys) != len(st.keys) || len(signed.trusted) != len(st.trusted) {
			t.Fatalf("with a good digest: %v", err)
		}
		if _, err := parseJKS(data, fixtureStorePassword); err != nil && !errors.Is(err, errJKSIntegrity) {
			t.Fatalf("with the password, a store read without it fails otherwise: %v", err)
		}

		// loadTrusted trusts every trusted entry and the first certificate of each
		// key entry's chain.
		want := len(st.trusted)
		for _, k := range st.keys {
			if len(k.chain) > 0 {
				want++
			}
		}
		certs, err := loadTrusted(TypeJKS, data, "")
		if want == 0 && err == nil || want > 0 && (err != nil || len(certs) != want) {
			t.Fatalf("loadTrusted: %d certificates, %v; want %d", len(certs), err, want)
		}

		cert, err := loadKeyEntry(data, "", fixtureKeyPassword)
		if err != nil {
			checkError(t, "loadKeyEntry", err, jksKeyErrorForms, fixtureKeyPassword)
			return
		}
		key, ok := cert.PrivateKey.(crypto.Signer)
		if len(st.keys) != 1 || !ok {
			t.Fatalf("a key entry from a store of %d keys, a %T", len(st.keys), cert.PrivateKey)
		}
		checkKeyAndChain(t, "loadKeyEntry", key, st.keys[0].chain)
	})
}

// FuzzParsePEM reads any text as PEM, then each key block as a key (with the
// fixture key password, for encrypted ones) paired with the text's certificates.
func FuzzParsePEM(f *testing.F) {
	for _, name := range append([]string{"ca.pem", "client.pem", "client.key", "client.sec1.key", "client.keystore.pem"}, encryptedKeyFixtures...) {
		f.Add(fixtureBytes(f, name))
	}
	ks := fixtureBytes(f, "client.keystore.pem")
	seedTruncations(f, ks)
	f.Add([]byte(strings.Join(strings.Fields(string(ks)), " "))) // a properties value joined onto one line
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		text := string(data)
		blocks, err := parsePEM(text)
		if err != nil {
			checkError(t, "parsePEM", err, pemErrorForms)
			return
		}

		// The shortest block, "---BEGIN A------END A---", is 24 bytes, and base64
		// decodes to at most 3 bytes in 4.
		size := 0
		for _, b := range blocks {
			size += len(b.der)
			if b.label == "" || strings.Join(strings.Fields(b.label), " ") != b.label || strings.Trim(b.label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ") != "" {
				t.Fatalf("label %q", b.label)
			}
		}
		if len(blocks) == 0 || len(blocks)*24 > len(text) || size > len(text)*3/4 {
			t.Fatalf("%d blocks, %d bytes decoded from %d bytes of text", len(blocks), size, len(text))
		}

		// What parsePEM returns, written back as plain PEM, reads back the same.
		var again strings.Builder
		for _, b := range blocks {
			again.WriteString("-----BEGIN " + b.label + "-----\n")
			if b.headers {
				again.WriteString("Proc-Type: 4,ENCRYPTED\n\n")
			}
			again.WriteString(base64.StdEncoding.EncodeToString(b.der) + "\n-----END " + b.label + "-----\n")
		}
		back, err := parsePEM(again.String())
		if err != nil || len(back) != len(blocks) {
			t.Fatalf("written back, %d blocks read as %d: %v", len(blocks), len(back), err)
		}
		for i := range back {
			if back[i].label != blocks[i].label || back[i].headers != blocks[i].headers || !bytes.Equal(back[i].der, blocks[i].der) {
				t.Fatalf("block %d written back reads differently", i)
			}
		}

		var chain []*x509.Certificate
		for _, b := range blocks {
			if c, err := x509.ParseCertificate(b.der); err == nil && b.label == "CERTIFICATE" {
				chain = append(chain, c)
			}
		}
		for _, b := range blocks {
			if !isKeyLabel(b.label) {
				continue
			}
			key, err := parseKey(b, fixtureKeyPassword)
			if err != nil {
				checkError(t, "parseKey", err, keyErrorForms, fixtureKeyPassword)
				continue
			}
			checkKeyAndChain(t, "parseKey", key, chain)
		}
	})
}

// FuzzParsePKCS8 reads any bytes as a PKCS#8 key, plain or encrypted (then with
// the fixture key password), as parseKey does for a PRIVATE KEY block.
func FuzzParsePKCS8(f *testing.F) {
	plain, err := pemKey(string(fixtureBytes(f, "client.key")), "")
	if err != nil {
		f.Fatal(err)
	}
	clientCert, err := x509.ParseCertificate(mustPEMBlock(f, "client.pem").der)
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range append([]string{"client.key"}, encryptedKeyFixtures...) {
		seedTruncations(f, mustPEMBlock(f, name).der)
	}

	f.Fuzz(func(t *testing.T, der []byte) {
		if len(der) > fuzzMaxInput {
			return
		}
		isPlain, isEncrypted := isPlainPKCS8(der), isEncryptedPKCS8(der)
		if isPlain && isEncrypted {
			t.Fatal("both a PrivateKeyInfo and an EncryptedPrivateKeyInfo")
		}
		key, err := parseKey(pemBlock{label: "ENCRYPTED PRIVATE KEY", der: der}, fixtureKeyPassword)
		if isPlain {
			// A key password given for a plain key is ignored.
			key2, err2 := parseKey(pemBlock{label: "PRIVATE KEY", der: der}, "")
			if (err == nil) != (err2 == nil) || err == nil && !sameKey(key, key2) {
				t.Fatalf("a plain key reads differently with a password: %v, %v", err, err2)
			}
		}
		if err != nil {
			checkError(t, "parseKey", err, keyErrorForms, fixtureKeyPassword)
			return
		}
		if !isPlain && !isEncrypted {
			t.Fatal("read a key from DER that is neither plain nor encrypted PKCS#8")
		}
		checkKeyAndChain(t, "parseKey", key, []*x509.Certificate{clientCert})
		if !isEncrypted {
			return
		}

		// Decryption strips 1 to 16 bytes of padding from whole blocks. That a
		// key decrypted says little more: encrypted PKCS#8 has no integrity
		// check, and a corrupted ciphertext can decrypt, padding and all, to
		// another valid key, for any 32 bytes below the group order are a P-256
		// scalar. (testdata/fuzz/FuzzParsePKCS8/corrupt-ciphertext-other-key did,
		// with 5 bytes after the key, until decryptPKCS8 required a whole
		// PrivateKeyInfo.) The certificate catches such a key: checkKeyAndChain
		// above has asserted that it pairs with client.pem only if it is
		// client.key.
		var info encryptedPrivateKeyInfo
		if _, err := asn1.Unmarshal(der, &info); err != nil {
			t.Fatal(err)
		}
		out, err := decryptPKCS8(der, fixtureKeyPassword)
		if err != nil {
			t.Fatalf("parseKey decrypted what decryptPKCS8 does not: %v", err)
		}
		if pad := len(info.Data) - len(out); pad < 1 || pad > 16 {
			t.Fatalf("%d bytes of padding", pad)
		}
		if sameKey(plain, key) != samePublic(key.Public(), clientCert.PublicKey) {
			t.Fatal("the private keys compare otherwise than their public halves")
		}
	})
}

// mustPEMBlock returns the first block of a PEM fixture.
func mustPEMBlock(f *testing.F, name string) pemBlock {
	f.Helper()
	blocks, err := parsePEM(string(fixtureBytes(f, name)))
	if err != nil {
		f.Fatal(err)
	}
	return blocks[0]
}

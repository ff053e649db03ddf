#!/usr/bin/env bash
# Regenerates the fixed test vectors of package tlsconf with OpenSSL and the JDK's
# keytool, the tools whose output kprod must read. Test secrets only. The files are
# committed; rerun only to change them (every file changes: keys are random).
#
#   ca.pem                      a P-256 test CA (valid 100 years)
#   client.pem client.key       a client certificate (CN=client, EKU clientAuth) and its
#                               PKCS#8 key; client.keystore.pem = key + certificate
#   client.sec1.key             the key as SEC 1 ("EC PRIVATE KEY")
#   client.<scheme>.key         the key encrypted with KEY_PASSWORD: PBES1 (pbes1-sha1-3des,
#                               pbes1-sha1-2des, pbes1-md5-des, pbes1-sha1-des), PBES2
#                               (pbes2-aes256-sha256, OpenSSL 3's default; pbes2-aes128-sha1;
#                               pbes2-des3-sha1) and the refused pbes1-sha1-rc2-40 and scrypt
#   client.p12 client.legacy.p12 PKCS12 keystores (OpenSSL 3 default; PBE-SHA1-3DES with a
#                               SHA-1 MAC), STORE_PASSWORD
#   client.jks                  JKS keystore (keytool): store STORE_PASSWORD, key KEY_PASSWORD
#   truststore.jks truststore.p12  ca.pem as a trusted entry (keytool), STORE_PASSWORD
set -euo pipefail
cd "$(dirname "$0")"
STORE_PASSWORD=store-secret
KEY_PASSWORD=key-secret
q() { "$@" 2>/dev/null; }

cat >gen.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
q openssl req -x509 -new -key ca.key -out ca.pem -days 36500 -subj "/O=kprod/CN=tlsconf test CA" -config gen.cnf -extensions ca_ext
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key
q openssl req -new -key client.key -out client.csr -subj "/O=kprod/CN=client" -config gen.cnf
q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 36500 -extfile gen.cnf -extensions client_ext -out client.pem
cat client.key client.pem >client.keystore.pem
q openssl ec -in client.key -out client.sec1.key
enc() { q openssl pkcs8 -topk8 -in client.key -out "client.$1.key" -passout "pass:$KEY_PASSWORD" "${@:2}"; }
enc pbes1-sha1-3des -v1 PBE-SHA1-3DES
enc pbes1-sha1-2des -v1 PBE-SHA1-2DES
enc pbes1-md5-des -v1 PBE-MD5-DES -provider legacy -provider default
enc pbes1-sha1-des -v1 PBE-SHA1-DES -provider legacy -provider default
enc pbes1-sha1-rc2-40 -v1 PBE-SHA1-RC2-40 -provider legacy -provider default
enc pbes2-aes256-sha256
enc pbes2-aes128-sha1 -v2 aes-128-cbc -v2prf hmacWithSHA1
enc pbes2-des3-sha1 -v2 des3 -v2prf hmacWithSHA1
enc scrypt -scrypt
q openssl pkcs12 -export -inkey client.key -in client.pem -certfile ca.pem -name client -out client.p12 -passout "pass:$STORE_PASSWORD"
q openssl pkcs12 -export -inkey client.key -in client.pem -certfile ca.pem -name client \
	-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -out client.legacy.p12 -passout "pass:$STORE_PASSWORD"
rm -f client.jks truststore.jks truststore.p12
keytool -importkeystore -noprompt -srckeystore client.p12 -srcstoretype PKCS12 -srcstorepass "$STORE_PASSWORD" \
	-srcalias client -destkeystore client.jks -deststoretype JKS -deststorepass "$STORE_PASSWORD" \
	-destalias client -destkeypass "$KEY_PASSWORD" >/dev/null 2>&1
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS -storepass "$STORE_PASSWORD" >/dev/null 2>&1
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass "$STORE_PASSWORD" >/dev/null 2>&1
rm -f ca.key client.csr gen.cnf

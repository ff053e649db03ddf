# scripts/kafka-security.sh: the secure listeners of `scripts/kafka up --security`. Sourced by
# scripts/kafka (it uses its STATE, BASE_PORT, CLUSTER, die and cluster_version); not a command.
#
# Beside PLAINTEXT every node gets, on BASE+10*k+i-1 for node i:
#   k=1 SSL             TLS, no client certificate (principal ANONYMOUS)
#   k=2 MTLS            TLS, client certificate required (principal = the certificate's CN)
#   k=3 SASL_PLAINTEXT  SASL without TLS; sessions expire after --reauth-ms (KIP-368)
#   k=4 SASL_SSL        SASL over TLS; sessions do not expire
#   k=5 WRONGHOST       TLS with a certificate for DNS:wrong.kprod.invalid, signed by the trusted
#                       CA: the chain verifies, the host does not
#   k=6 OAUTH           SASL_SSL with OAUTHBEARER only, validated for real: RS256 JWTs signed by
#                       the PKI's oauth-signer.key (checked against oauth-jwks.json), audience
#                       kprod-test, issuer kprod-test-issuer
# with the StandardAuthorizer (deny unless an ACL allows; super users ANONYMOUS, which is
# PLAINTEXT and the inter-broker traffic, and admin), SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
# and OAUTHBEARER (the unsecured validator: any unsigned JWT with sub and a future exp).
#
# OAuth client credentials (KIP-768): brokers validate tokens and never call token endpoints,
# so a test runs its own endpoint (internal/testcluster.TokenEndpoint) and points
# sasl.oauthbearer.token.endpoint.url at it. For SASL_PLAINTEXT and SASL_SSL it may issue
# unsigned JWTs (alg none, empty signature), but Java's client rejects those before sending
# them ("Malformed JWT ... expected three sections"): a Java client needs the OAUTH listener
# and tokens signed with oauth-signer.key. A Java client (Kafka 4.0+) also calls only listed
# endpoints: KPROD_KAFKA_JAVA_OPTS=-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=URL.

# The listeners beside PLAINTEXT, in port order.
SECURE_LISTENERS="SSL MTLS SASL_PLAINTEXT SASL_SSL WRONGHOST OAUTH"
SASL_LISTENERS="SASL_PLAINTEXT SASL_SSL"
MECHANISMS="PLAIN SCRAM-SHA-256 SCRAM-SHA-512 OAUTHBEARER"
# "name password mechanisms": admin is a super user; noacl has no ACL but what the
# authorization tests grant it on their own uniquely named resources while they run.
# PLAIN users live in the listeners' JAAS config, SCRAM ones in the metadata log (format).
SASL_USERS=(
	"admin admin-secret PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
	"alice alice-secret SCRAM-SHA-512"
	"bob bob-secret SCRAM-SHA-256"
	"carol carol-secret PLAIN"
	"noacl noacl-secret PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
)
# Java renders a certificate subject /O=kprod/CN=alice as "CN=alice,O=kprod": the user is alice.
PRINCIPAL_RULES='RULE:^CN=([^,]+),.*$/$1/,DEFAULT'
OAUTH_AUDIENCE=kprod-test
OAUTH_ISSUER=kprod-test-issuer
STORE_PASSWORD="${KPROD_PKI_STORE_PASSWORD:-kprod-store-secret}"
KEY_PASSWORD="${KPROD_PKI_KEY_PASSWORD:-kprod-key-secret}"
export KPROD_PKI_STORE_PASSWORD="$STORE_PASSWORD" KPROD_PKI_KEY_PASSWORD="$KEY_PASSWORD"

# Java client configs written to <state>/client: "name listener principal mechanism". Each works
# unchanged with ConsoleProducer --producer.config (bootstrap.servers is in it).
CLIENT_CONFIGS=(
	"ssl SSL User:ANONYMOUS -"
	"mtls MTLS User:alice -"
	"mtls-p12 MTLS User:alice -"
	"mtls-pem MTLS User:alice -"
	"mtls-inline MTLS User:alice -"
)
for _l in sasl_plaintext sasl_ssl; do
	_L=$(echo "$_l" | tr a-z A-Z)
	CLIENT_CONFIGS+=("$_l-plain $_L User:carol PLAIN" "$_l-scram-sha-256 $_L User:bob SCRAM-SHA-256"
		"$_l-scram-sha-512 $_L User:alice SCRAM-SHA-512" "$_l-oauthbearer $_L User:alice OAUTHBEARER")
done
unset _l _L

# $STATE/security holds a secure cluster's options ("reauth-ms=10000"); absent = PLAINTEXT only.
security_opts() { cat "$STATE/security" 2>/dev/null || true; }
is_secure() { [[ -n $(security_opts) ]]; }
reauth_ms() { security_opts | sed -n 's/^reauth-ms=//p'; }
pki() { echo "$STATE/pki"; }
cluster_listeners() { if is_secure; then echo "PLAINTEXT $SECURE_LISTENERS"; else echo PLAINTEXT; fi; }

listener_port() { # listener_port LISTENER N
	local k=0 l
	for l in PLAINTEXT $SECURE_LISTENERS; do
		if [[ $l == "$1" ]]; then echo $((BASE_PORT + 10 * k + $2 - 1)); return; fi
		k=$((k + 1))
	done
	die "unknown listener $1"
}

listener_protocol() { case "$1" in MTLS | WRONGHOST) echo SSL ;; OAUTH) echo SASL_SSL ;; *) echo "$1" ;; esac; }

# broker_java_opts prints the brokers' extra JVM flags: Kafka 4.0+ reads a JWKS file only if
# a system property allows it.
broker_java_opts() {
	if is_secure; then
		echo "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=file://$(pki)/oauth-jwks.json"
	fi
}

listener_bootstrap() { # listener_bootstrap LISTENER NODES
	local i b=""
	for ((i = 1; i <= $2; i++)); do b+="${b:+,}127.0.0.1:$(listener_port "$1" $i)"; done
	echo "$b"
}

lower() { echo "$1" | tr A-Z a-z; }
envkey() { echo "$1" | tr 'a-z.-' 'A-Z__'; }
has_mechanism() { [[ ,$2, == *",$1,"* ]]; } # has_mechanism MECHANISM LIST

# secure_props prints the broker side of every secure listener (for server.properties).
secure_props() {
	local l u plain=""
	for u in "${SASL_USERS[@]}"; do
		set -- $u
		if has_mechanism PLAIN "$3"; then plain+=" user_$1=\"$2\""; fi
	done
	cat <<EOF
ssl.keystore.type=PEM
ssl.keystore.location=$(pki)/broker.keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$(pki)/ca.pem
ssl.principal.mapping.rules=$PRINCIPAL_RULES
listener.name.mtls.ssl.client.auth=required
listener.name.wronghost.ssl.keystore.location=$(pki)/wronghost.keystore.pem
sasl.enabled.mechanisms=${MECHANISMS// /,}
listener.name.sasl_plaintext.connections.max.reauth.ms=$(reauth_ms)
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:admin
allow.everyone.if.no.acl.found=false
EOF
	for l in $SASL_LISTENERS; do
		l=$(lower "$l")
		cat <<EOF
listener.name.$l.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain;
listener.name.$l.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$l.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$l.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="admin";
listener.name.$l.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler
EOF
	done
	local v=org.apache.kafka.common.security.oauthbearer
	cat <<EOF
listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.oauth.oauthbearer.sasl.jaas.config=$v.OAuthBearerLoginModule required;
listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=$v.OAuthBearerValidatorCallbackHandler
listener.name.oauth.oauthbearer.sasl.oauthbearer.jwks.endpoint.url=file://$(pki)/oauth-jwks.json
listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.audience=$OAUTH_AUDIENCE
listener.name.oauth.oauthbearer.sasl.oauthbearer.expected.issuer=$OAUTH_ISSUER
EOF
}

# scram_args prints, one per line, the StorageTool format flags that create the SCRAM users.
scram_args() {
	local u m
	for u in "${SASL_USERS[@]}"; do
		set -- $u
		for m in SCRAM-SHA-256 SCRAM-SHA-512; do
			if has_mechanism "$m" "$3"; then printf '%s\n' --add-scram "$m=[name=$1,password=$2]"; fi
		done
	done
}

# pem_value FILE prints FILE as a Java properties value: one PEM line per line, continued with
# a backslash (java.util.Properties joins them; Kafka's PEM parser ignores the spaces).
pem_value() { awk 'NR > 1 {print line " \\"} {line = (NR > 1 ? "    " : "") $0} END {print line}' "$1"; }

# client_config NAME LISTENER PRINCIPAL MECHANISM NODES prints one Java producer config.
client_config() {
	local name="$1" listener="$2" principal="$3" mech="$4" nodes="$5" p
	p=$(pki)
	echo "# $name: $(listener_protocol "$listener") on listener $listener as $principal (scripts/kafka up --security)"
	echo "bootstrap.servers=$(listener_bootstrap "$listener" "$nodes")"
	echo "security.protocol=$(listener_protocol "$listener")"
	case "$name" in
	ssl)
		printf 'ssl.truststore.location=%s\nssl.truststore.password=%s\n' "$p/truststore.jks" "$STORE_PASSWORD" ;;
	mtls) # Java's default store type, JKS, with a key password of its own
		printf 'ssl.keystore.location=%s\nssl.keystore.password=%s\nssl.key.password=%s\n' "$p/alice.jks" "$STORE_PASSWORD" "$KEY_PASSWORD"
		printf 'ssl.truststore.location=%s\nssl.truststore.password=%s\n' "$p/truststore.jks" "$STORE_PASSWORD" ;;
	mtls-p12)
		printf 'ssl.keystore.type=PKCS12\nssl.keystore.location=%s\nssl.keystore.password=%s\n' "$p/alice.p12" "$STORE_PASSWORD"
		printf 'ssl.truststore.type=PKCS12\nssl.truststore.location=%s\nssl.truststore.password=%s\n' "$p/truststore.p12" "$STORE_PASSWORD" ;;
	mtls-pem) # a PBES1-encrypted PKCS#8 key: the one encryption Java's PEM keystore reads
		printf 'ssl.keystore.type=PEM\nssl.keystore.location=%s\nssl.key.password=%s\n' "$p/alice.pbes1.keystore.pem" "$KEY_PASSWORD"
		printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$p/ca.pem" ;;
	mtls-inline)
		echo "ssl.keystore.type=PEM"
		printf 'ssl.keystore.certificate.chain='; pem_value "$p/alice.pem"
		printf 'ssl.keystore.key='; pem_value "$p/alice.key"
		echo "ssl.truststore.type=PEM"
		printf 'ssl.truststore.certificates='; pem_value "$p/ca.pem" ;;
	*)
		if [[ $listener == SASL_SSL ]]; then printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\n' "$p/ca.pem"; fi
		echo "sasl.mechanism=$mech"
		local user="${principal#User:}"
		local pass="$user-secret"
		case "$mech" in
		PLAIN) echo "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$user\" password=\"$pass\";" ;;
		SCRAM-*) echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$user\" password=\"$pass\";" ;;
		OAUTHBEARER) echo "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"$user\";" ;;
		esac ;;
	esac
}

# write_security NODES writes <state>/client/*.properties, then <state>/security.env.
write_security() {
	local nodes="$1" c l f u k
	mkdir -p "$STATE/client"
	{
		echo "# scripts/kafka up --security: how to reach cluster $CLUSTER's secure listeners."
		echo "# Shell-sourceable; internal/testcluster.Secure reads it. Test secrets only."
		echo "SECURITY_FORMAT='1'"
		echo "CLUSTER='$CLUSTER'"
		echo "KAFKA_VERSION='$(cluster_version)'"
		echo "NODES='$nodes'"
		echo "LISTENERS='$(cluster_listeners)'"
		for l in $(cluster_listeners); do
			echo "${l}_BOOTSTRAP='$(listener_bootstrap "$l" "$nodes")'"
			echo "${l}_PROTOCOL='$(listener_protocol "$l")'"
		done
		echo "MTLS_CLIENT_AUTH='required'"
		echo "WRONGHOST_CERT_HOST='wrong.kprod.invalid'"
		echo "# OAUTH validates RS256 JWTs signed by OAUTH_SIGNER_KEY (header kid OAUTH_SIGNER_KID)"
		echo "# against OAUTH_JWKS, with aud OAUTH_AUDIENCE, iss OAUTH_ISSUER, exp; sub is the principal."
		echo "OAUTH_AUDIENCE='$OAUTH_AUDIENCE'"
		echo "OAUTH_ISSUER='$OAUTH_ISSUER'"
		echo "OAUTH_SIGNER_KEY='$(pki)/oauth-signer.key'"
		echo "OAUTH_SIGNER_KID='kprod-test-signer'"
		echo "OAUTH_JWKS='$(pki)/oauth-jwks.json'"
		echo "SASL_PLAINTEXT_REAUTH_MS='$(reauth_ms)'"
		echo "SASL_SSL_REAUTH_MS='0'"
		echo "SASL_MECHANISMS='$MECHANISMS'"
		echo "# The unsecured validator accepts an unsigned JWT (alg none) with sub (the principal)"
		echo "# and a future exp; it checks no signature and, unconfigured, no scope."
		echo "OAUTHBEARER_VALIDATOR='unsecured'"
		echo "AUTHORIZER='org.apache.kafka.metadata.authorizer.StandardAuthorizer'"
		echo "SUPER_USERS='User:ANONYMOUS User:admin'"
		echo "ALLOW_EVERYONE_IF_NO_ACL_FOUND='false'"
		echo "SSL_PRINCIPAL_MAPPING_RULES='$PRINCIPAL_RULES'"
		printf "USERS='%s'\n" "$(for u in "${SASL_USERS[@]}"; do echo "${u%% *}"; done | xargs)"
		for u in "${SASL_USERS[@]}"; do
			set -- $u
			echo "USER_$(envkey "$1")_PASSWORD='$2'"
			echo "USER_$(envkey "$1")_MECHANISMS='$3'"
		done
		echo "PKI_DIR='$(pki)'"
		echo "STORE_PASSWORD='$STORE_PASSWORD'"
		echo "KEY_PASSWORD='$KEY_PASSWORD'"
		for f in "$(pki)"/*; do
			if [[ $f != *.cnf ]]; then echo "PKI_$(envkey "$(basename "$f")")='$f'"; fi
		done
		echo "CLIENT_CONFIG_DIR='$STATE/client'"
		printf "CLIENT_CONFIGS='%s'\n" "$(for c in "${CLIENT_CONFIGS[@]}"; do echo "${c%% *}"; done | xargs)"
		for c in "${CLIENT_CONFIGS[@]}"; do
			set -- $c
			client_config "$@" "$nodes" >"$STATE/client/$1.properties"
			k=$(envkey "$1")
			echo "CLIENT_CONFIG_${k}_FILE='$STATE/client/$1.properties'"
			echo "CLIENT_CONFIG_${k}_LISTENER='$2'"
			echo "CLIENT_CONFIG_${k}_PRINCIPAL='$3'"
			echo "CLIENT_CONFIG_${k}_MECHANISM='${4#-}'"
		done
	} >"$STATE/security.env.tmp"
	mv "$STATE/security.env.tmp" "$STATE/security.env"
}

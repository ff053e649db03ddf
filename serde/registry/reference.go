package registry

import (
	"context"
	"net/http"
	"net/url"
)

// ReferenceVersion resolves a schema that a serializer's schema imports, as Java's
// Protobuf serializer does for each import before the schema itself
// (AbstractKafkaProtobufSerializer.resolveDependencies): under subject (Java's
// DefaultReferenceSubjectNameStrategy names it after the import, e.g.
// "address.proto"), s is registered when auto.register.schemas is true, else the
// subject's latest version is taken when use.latest.version is true, else s is looked
// up. It returns the version the reference names. It is not cached: a serializer asks
// once per imported file.
func (r *Resolver) ReferenceVersion(ctx context.Context, subject string, s Schema) (int, error) {
	switch {
	case r.auto:
		if _, err := r.c.register(ctx, subject, s, r.cfg.NormalizeSchemas); err != nil {
			return 0, err
		}
		// The register answer carries only the id; the version is a lookup away, as
		// in Java (schemaRegistry.getVersion).
		return r.c.lookupVersion(ctx, subject, s, r.cfg.NormalizeSchemas)
	case r.cfg.UseLatestVersion:
		var b schemaBody
		if err := r.c.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/latest", nil, &b); err != nil {
			return 0, err
		}
		return b.Version, nil
	default:
		return r.c.lookupVersion(ctx, subject, s, r.cfg.NormalizeSchemas)
	}
}

// lookupVersion finds s among subject's versions (POST /subjects/{subject}) and
// returns its version.
func (c *Client) lookupVersion(ctx context.Context, subject string, s Schema, normalize bool) (int, error) {
	path := "/subjects/" + url.PathEscape(subject) + normalizeQuery(normalize)
	var b schemaBody
	if err := c.do(ctx, http.MethodPost, path, toBody(s), &b); err != nil {
		return 0, err
	}
	return b.Version, nil
}

package registry

import "strconv"

// RequireNoCompatibilityCheck fails, with a *ConfigError naming the property,
// when r is configured to write with the registry's schema (use.schema.id, or
// use.latest.version, with auto.register.schemas=false) and to check, as Java does
// by default (id.compatibility.strict, latest.compatibility.strict), that it can
// read what the caller's schema writes, but the serializer has no such check for
// its schema language. Skipping Java's check silently would write records under a
// schema that may not describe them; setting the property to false says to use
// the registry's schema unchecked. language names the serializer in the reason.
func (r *Resolver) RequireNoCompatibilityCheck(language string) error {
	switch {
	case r.auto:
		return nil // registering: the id is the caller's own schema's
	case r.cfg.UseSchemaID > 0:
		if r.idStrict {
			return configErr("id.compatibility.strict", "true", uncheckedReason(language, "id.compatibility.strict", "use.schema.id="+strconv.Itoa(r.cfg.UseSchemaID)))
		}
	case r.cfg.UseLatestVersion:
		if r.strict {
			return configErr("latest.compatibility.strict", "true", uncheckedReason(language, "latest.compatibility.strict", "use.latest.version=true"))
		}
	}
	return nil
}

func uncheckedReason(language, prop, mode string) string {
	return "kprod cannot check " + language + " schema compatibility, which Java checks under " + mode +
		"; set " + prop + "=false to write with the registry's schema unchecked"
}

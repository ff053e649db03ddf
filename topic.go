package kprod

import "fmt"

// maxTopicLength is Kafka's limit on topic name length (Topic.MAX_NAME_LENGTH).
const maxTopicLength = 249

// validateTopic applies Kafka's topic name rules (org.apache.kafka.common.internals.Topic):
// 1 to 249 characters of [a-zA-Z0-9._-], and not "." or "..".
func validateTopic(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: topic name is empty", ErrInvalidTopic)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name cannot be %q", ErrInvalidTopic, name)
	case len(name) > maxTopicLength:
		return fmt.Errorf("%w: topic name is %d characters, more than %d", ErrInvalidTopic, len(name), maxTopicLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: topic name %q has character %q outside [a-zA-Z0-9._-]", ErrInvalidTopic, name, c)
		}
	}
	return nil
}

"""Reads a topic with Confluent's Python client and its JSONDeserializer.

An independent reader of the Confluent JSON Schema wire format for kprod's tests: it
looks each record's schema up by the id in its header, validates the payload against
it, and prints one JSON line per record: {"offset", "key", "value", "value_schema_id"}.

usage: read_jsonschema.py BOOTSTRAP TOPIC REGISTRY_URL COUNT
"""
import faulthandler

# A reader that hangs says where before the test kills it (after two minutes): every
# thread's stack goes to stderr, which the test prints. The registry client also gets
# a request timeout: httpx waits forever by default, and its retries cover timeouts.
faulthandler.dump_traceback_later(90, exit=True)

import json
import sys
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    bootstrap, topic, url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    registry = SchemaRegistryClient({"url": url, "timeout": 20})
    deser = JSONDeserializer(None, schema_registry_client=registry)
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "kprod-test-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    seen = 0
    try:
        while seen < count:
            msg = consumer.poll(30.0)
            if msg is None:
                sys.exit("timed out after %d of %d records" % (seen, count))
            if msg.error():
                sys.exit("consumer error: %s" % msg.error())
            key = deser(msg.key(), SerializationContext(topic, MessageField.KEY))
            value = deser(msg.value(), SerializationContext(topic, MessageField.VALUE))
            sid = None
            if msg.value() is not None:
                sid = int.from_bytes(msg.value()[1:5], "big")
            print(json.dumps({"offset": msg.offset(), "key": key, "value": value, "value_schema_id": sid}), flush=True)
            seen += 1
    finally:
        consumer.close()


if __name__ == "__main__":
    main()

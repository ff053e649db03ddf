# Reads records a kprod producer wrote and decodes them with Confluent's Python
# client (confluent-kafka, AvroDeserializer on fastavro): an independent reader of
# the Confluent wire format. Prints a JSON list of {key, value, key_id, value_id}.
#   read_confluent.py REGISTRY_URL BOOTSTRAP TOPIC COUNT AVRO_KEY(0|1)
import faulthandler

# A reader that hangs says where before the test kills it (after two minutes): every
# thread's stack goes to stderr, which the test prints. The registry client also gets
# a request timeout: httpx waits forever by default, and its retries cover timeouts.
faulthandler.dump_traceback_later(90, exit=True)

import json
import sys

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

url, bootstrap, topic, count, avro_key = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
deserialize = AvroDeserializer(SchemaRegistryClient({"url": url, "timeout": 20}))
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "kprod-avro-readback",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
consumer.assign([TopicPartition(topic, 0, 0)])


def schema_id(b):
    return None if b is None else int.from_bytes(b[1:5], "big")


out = []
while len(out) < count:
    m = consumer.poll(30)
    if m is None:
        sys.exit("timed out after %d of %d records" % (len(out), count))
    if m.error():
        sys.exit(str(m.error()))
    key, value = m.key(), m.value()
    if avro_key:
        k = deserialize(key, SerializationContext(topic, MessageField.KEY))
    else:
        k = None if key is None else key.decode()
    v = deserialize(value, SerializationContext(topic, MessageField.VALUE))
    out.append({"key": k, "value": v, "key_id": schema_id(key) if avro_key else None, "value_id": schema_id(value)})
consumer.close()
print(json.dumps(out, default=str, sort_keys=True))

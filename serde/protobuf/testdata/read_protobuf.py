"""Reads a topic with Confluent's Python client and its ProtobufDeserializer.

An independent reader of the Confluent Protobuf wire format for kprod's tests: it
reads the header and the message-index path and decodes the payload with message
classes generated at test time by grpcio-tools' protoc into PBDIR. It is given no
registry client: with one, it fetches the writer's schema with ?format=serialized (a
base64 FileDescriptorProto), which Apicurio's Confluent-compatible API does not
support (it answers the .proto text, and the base64 decoding fails). It prints one
JSON line per record: {"offset", "key", "value", "value_schema_id"}.

usage: read_protobuf.py BOOTSTRAP TOPIC COUNT PBDIR
"""
import json
import sys
import uuid

from google.protobuf.json_format import MessageToDict


def main():
    bootstrap, topic, count, pbdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    sys.path.insert(0, pbdir)
    import customer_pb2
    import plain_pb2
    from confluent_kafka import Consumer
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    keys = ProtobufDeserializer(plain_pb2.Plain, {})
    values = ProtobufDeserializer(customer_pb2.Customer, {})
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
            key = keys(msg.key(), SerializationContext(topic, MessageField.KEY))
            value = values(msg.value(), SerializationContext(topic, MessageField.VALUE))
            sid = None
            if msg.value() is not None:
                sid = int.from_bytes(msg.value()[1:5], "big")
            print(json.dumps({
                "offset": msg.offset(),
                "key": None if key is None else MessageToDict(key),
                "value": None if value is None else MessageToDict(value),
                "value_schema_id": sid,
            }), flush=True)
            seen += 1
    finally:
        consumer.close()


if __name__ == "__main__":
    main()

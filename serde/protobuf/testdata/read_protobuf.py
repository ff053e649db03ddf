"""Reads a topic with Confluent's Python client and its ProtobufDeserializer.

An independent reader of the Confluent Protobuf wire format for kprod's tests, with
message classes generated at test time by grpcio-tools' protoc into PBDIR. The
deserializer fetches the writer's schema by the id in the header, with its
references, and resolves the record's message-index path in it before decoding the
payload.

Confluent's client asks for schemas with ?format=serialized, expecting a base64
FileDescriptorProto; Apicurio 3.3.3 answers with the raw descriptor bytes in the JSON
string instead (and renames imports after their packages). So the client is made to
ask for the registered .proto text, and _str_to_proto compiles it with protoc (from
grpcio-tools), each reference under its import name: the text kprod registered is
then checked by Google's own parser.

It prints one JSON line per record: {"offset", "key", "value", "value_schema_id"}.

usage: read_protobuf.py BOOTSTRAP TOPIC REGISTRY_URL COUNT PBDIR
"""
import base64
import binascii
import importlib.resources
import json
import os
import sys
import tempfile
import uuid

from google.protobuf import descriptor_pb2
from google.protobuf.json_format import MessageToDict

SOURCES = tempfile.mkdtemp()


def patch_text_schemas():
    import confluent_kafka.schema_registry.common.protobuf as common
    import confluent_kafka.schema_registry._sync.protobuf as syncpb
    from grpc_tools import protoc

    serialized = common._str_to_proto
    include = str(importlib.resources.files("grpc_tools") / "_proto")

    def str_to_proto(name, schema_str):
        try:
            base64.b64decode(schema_str, validate=True)
            return serialized(name, schema_str)  # base64: what Confluent's registry answers
        except binascii.Error:
            pass  # .proto text
        fname = name if name.endswith(".proto") else name + ".proto"
        path = os.path.join(SOURCES, fname)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(schema_str)
        out = path + ".pb"
        if protoc.main(["protoc", "-I" + SOURCES, "-I" + include, "--descriptor_set_out=" + out, fname]) != 0:
            raise ValueError("protoc cannot compile the registered schema %s:\n%s" % (name, schema_str))
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
        return fds.file[0]

    common._str_to_proto = str_to_proto
    syncpb._str_to_proto = str_to_proto

    from confluent_kafka.schema_registry import SchemaRegistryClient

    get_schema, get_version = SchemaRegistryClient.get_schema, SchemaRegistryClient.get_version

    def text_schema(self, schema_id, subject_name=None, fmt=None):
        return get_schema(self, schema_id, subject_name, None)

    def text_version(self, subject_name, version="latest", deleted=False, fmt=None):
        return get_version(self, subject_name, version, deleted, None)

    SchemaRegistryClient.get_schema = text_schema
    SchemaRegistryClient.get_version = text_version


def main():
    bootstrap, topic, url, count, pbdir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    sys.path.insert(0, pbdir)
    import customer_pb2
    import plain_pb2
    from confluent_kafka import Consumer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    patch_text_schemas()
    registry = SchemaRegistryClient({"url": url})
    keys = ProtobufDeserializer(plain_pb2.Plain, {}, schema_registry_client=registry)
    values = ProtobufDeserializer(customer_pb2.Customer, {}, schema_registry_client=registry)
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

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
With PBDIR "-" it reads values only, with no generated class: it resolves each
record's message type from the index path in the writer's schema with Confluent's
deserializer, decodes the payload with that type, and adds its "message" full name.

usage: read_protobuf.py BOOTSTRAP TOPIC REGISTRY_URL COUNT PBDIR
"""
import faulthandler

# A reader that hangs says where before the test kills it (after two minutes): every
# thread's stack goes to stderr, which the test prints. The registry client also gets
# a request timeout: httpx waits forever by default, and its retries cover timeouts.
faulthandler.dump_traceback_later(90, exit=True)

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


def writer_message(deser, data, ctx):
    """Decodes data with the message type its index path names in the writer's schema,
    using the deserializer's own steps (header, index, schema, path resolution)."""
    from confluent_kafka.schema_registry.serde import SchemaId
    from google.protobuf.message_factory import GetMessageClass

    schema_id = SchemaId("PROTOBUF")
    payload = deser._schema_id_deserializer(data, ctx, schema_id)
    writer = deser._get_writer_schema(schema_id, None, fmt="serialized")
    fd_proto, pool = deser._get_parsed_schema(writer)
    desc = deser._get_message_desc(pool, pool.FindFileByName(fd_proto.name), schema_id.message_indexes or [])
    msg = GetMessageClass(desc)()
    msg.ParseFromString(payload if isinstance(payload, bytes) else payload.read())
    return desc.full_name, msg


def main():
    bootstrap, topic, url, count, pbdir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    from confluent_kafka import Consumer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    patch_text_schemas()
    registry = SchemaRegistryClient({"url": url, "timeout": 20})
    if pbdir == "-":
        from google.protobuf import empty_pb2
        keys = None
        values = ProtobufDeserializer(empty_pb2.Empty, {}, schema_registry_client=registry)
    else:
        sys.path.insert(0, pbdir)
        import customer_pb2
        import plain_pb2
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
            ctx = SerializationContext(topic, MessageField.VALUE)
            out = {"offset": msg.offset(), "value_schema_id": None}
            if msg.value() is not None:
                out["value_schema_id"] = int.from_bytes(msg.value()[1:5], "big")
            if keys is None:
                name, value = writer_message(values, msg.value(), ctx)
                out["message"] = name
            else:
                key = keys(msg.key(), SerializationContext(topic, MessageField.KEY))
                out["key"] = None if key is None else MessageToDict(key)
                value = values(msg.value(), ctx)
            out["value"] = None if value is None else MessageToDict(value)
            print(json.dumps(out), flush=True)
            seen += 1
    finally:
        consumer.close()


if __name__ == "__main__":
    main()

// KafkaCodec runs Kafka's own producer-side codecs (org.apache.kafka.common.compress)
// for java_test.go. Each line of the manifest named by args[0] is
//   c|d codec level in out
// c compresses in with Compression.<codec>().level(level) as a RecordBatch v2
// producer would; d decompresses in as a broker or consumer would. A failure
// is written to out.err instead of out.
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteBufferOutputStream;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

public class KafkaCodec {
    static Compression build(String codec, int level) {
        switch (codec) {
            case "gzip": return Compression.gzip().level(level).build();
            case "snappy": return Compression.snappy().build();
            case "lz4": return Compression.lz4().level(level).build();
            case "zstd": return Compression.zstd().level(level).build();
            default: throw new IllegalArgumentException("unknown codec " + codec);
        }
    }

    public static void main(String[] args) throws Exception {
        final byte magicV2 = 2;
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.isBlank()) continue;
            String[] f = line.split(" ");
            Path out = Path.of(f[4]);
            try {
                byte[] data = Files.readAllBytes(Path.of(f[3]));
                Compression c = build(f[1], Integer.parseInt(f[2]));
                if (f[0].equals("c")) {
                    ByteBufferOutputStream bbos = new ByteBufferOutputStream(1024);
                    try (OutputStream os = c.wrapForOutput(bbos, magicV2)) {
                        os.write(data);
                    }
                    ByteBuffer b = bbos.buffer();
                    b.flip();
                    byte[] r = new byte[b.remaining()];
                    b.get(r);
                    Files.write(out, r);
                } else {
                    try (InputStream is = c.wrapForInput(ByteBuffer.wrap(data), magicV2, BufferSupplier.create())) {
                        Files.write(out, is.readAllBytes());
                    }
                }
            } catch (Throwable t) {
                Files.writeString(Path.of(f[4] + ".err"), t.toString());
            }
        }
    }
}

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

// FairPause is Java's side of internal/chaos TestFairPause: Java's KafkaProducer sending
// the workload kprod sends there (fairpause_test.go), so that the test can pause a broker
// under either producer and count what each gets acknowledged.
//
//   java FairPause.java BOOTSTRAP TOPIC MODE RATE VALUE_BYTES PARTITIONS [PROPERTY=VALUE...]
//
// MODE "partition": one thread per partition (0..PARTITIONS-1), each sending RATE
// records/s to its own partition. MODE "unkeyed": one thread sending RATE*PARTITIONS
// unkeyed records/s, which the default partitioner places. A thread behind its schedule
// by more than 100 ms (its send blocked) starts a new schedule instead of catching up.
// The properties go to the producer as they are.
//
// It prints "ready" once the producer exists, then answers on stdin: "count" prints
// "count A0 A1 ... FAILED" (acknowledged records per partition, failed records); "stop"
// stops the threads, closes the producer (which delivers what it holds) and prints
// "closed FAILED LAST_ERROR".
public class FairPause {
    public static void main(String[] args) throws Exception {
        String topic = args[1], mode = args[2];
        int rate = Integer.parseInt(args[3]), valueBytes = Integer.parseInt(args[4]);
        int partitions = Integer.parseInt(args[5]);
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        for (int i = 6; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        AtomicLongArray acked = new AtomicLongArray(partitions);
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> lastError = new AtomicReference<>("");
        AtomicBoolean stop = new AtomicBoolean();
        byte[] value = new byte[valueBytes];

        List<Thread> threads = new ArrayList<>();
        int senders = mode.equals("partition") ? partitions : 1;
        for (int s = 0; s < senders; s++) {
            Integer partition = mode.equals("partition") ? s : null;
            double perSecond = mode.equals("partition") ? rate : (double) rate * partitions;
            Thread t = new Thread(() -> {
                long periodNanos = (long) (1e9 / perSecond);
                long start = System.nanoTime();
                for (long i = 0; !stop.get(); i++) {
                    long wait = start + i * periodNanos - System.nanoTime();
                    if (wait < -100_000_000L) { // blocked: a new schedule, no burst
                        start = System.nanoTime();
                        i = 0;
                    } else if (wait > 1_000_000L) {
                        try {
                            Thread.sleep(wait / 1_000_000L);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    try {
                        producer.send(new ProducerRecord<>(topic, partition, null, value), (md, err) -> {
                            if (err != null) {
                                failed.incrementAndGet();
                                lastError.set(err.toString());
                            } else {
                                acked.incrementAndGet(md.partition());
                            }
                        });
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        lastError.set(e.toString());
                    }
                }
            });
            t.start();
            threads.add(t);
        }

        System.out.println("ready");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("count")) {
                StringBuilder b = new StringBuilder("count");
                for (int p = 0; p < partitions; p++) b.append(' ').append(acked.get(p));
                System.out.println(b.append(' ').append(failed.get()));
                System.out.flush();
            } else if (line.equals("stop")) {
                break;
            }
        }
        stop.set(true);
        for (Thread t : threads) t.join();
        producer.close();
        System.out.println("closed " + failed.get() + " " + lastError.get().replace('\n', ' '));
        System.out.flush();
    }
}

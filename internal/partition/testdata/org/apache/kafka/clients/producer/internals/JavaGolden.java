/*
 * Generates golden_data_test.go from the real Java client (kafka-clients
 * 4.x) so that the Go partitioners can be checked bit for bit. It lives in
 * BuiltInPartitioner's package to reach its package-private methods.
 *
 * Regenerate (from internal/partition/testdata):
 *   J=path/to/kafka-clients-4.3.1.jar
 *   S=$(ls $(dirname $J)/slf4j-api-*.jar 2>/dev/null | head -1)
 *   javac -cp $J -d /tmp/golden org/apache/kafka/clients/producer/internals/JavaGolden.java
 *   java -cp $J:$S:/tmp/golden org.apache.kafka.clients.producer.internals.JavaGolden > ../golden_data_test.go
 *   gofmt -w ../golden_data_test.go
 */
package org.apache.kafka.clients.producer.internals;

import org.apache.kafka.clients.producer.RoundRobinPartitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.common.utils.Utils;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

public class JavaGolden {
    /** A BuiltInPartitioner whose random numbers come from a recorded script. */
    static final class Scripted extends BuiltInPartitioner {
        final Random source;
        final List<Integer> used = new ArrayList<>();

        Scripted(String topic, int batchSize, long seed) {
            super(new LogContext(), topic, batchSize);
            source = new Random(seed);
        }

        @Override
        int randomPartition() {
            int r = source.nextInt();
            used.add(r);
            return Utils.toPositive(r);
        }
    }

    static final Node[] NODES = {new Node(0, "h", 1), new Node(1, "h", 2), new Node(2, "h", 3)};

    static Cluster cluster(String topic, int n, int... leaderless) {
        List<PartitionInfo> parts = new ArrayList<>();
        outer:
        for (int p = 0; p < n; p++) {
            for (int l : leaderless) {
                if (l == p) {
                    parts.add(new PartitionInfo(topic, p, null, NODES, NODES));
                    continue outer;
                }
            }
            parts.add(new PartitionInfo(topic, p, NODES[p % NODES.length], NODES, NODES));
        }
        return new Cluster("c", Arrays.asList(NODES), parts, Collections.emptySet(), Collections.emptySet());
    }

    static String ints(int[] a, int len) {
        StringBuilder sb = new StringBuilder("[]int32{");
        for (int i = 0; i < len; i++) sb.append(i == 0 ? "" : ", ").append(a[i]);
        return sb.append("}").toString();
    }

    static void trace(String name, int numPartitions, int[] leaderless, int batchSize, boolean adaptive, long seed) {
        Cluster c = cluster("t", numPartitions, leaderless);
        Scripted bp = new Scripted("t", batchSize, seed);
        Random ops = new Random(seed * 31 + 7);
        StringBuilder out = new StringBuilder();
        out.append("\t{\n\t\tname: \"").append(name).append("\", count: ").append(numPartitions)
            .append(", leaderless: ").append(ints(leaderless, leaderless.length))
            .append(", batchSize: ").append(batchSize).append(",\n\t\tops: []goldenOp{\n");
        int onLine = 0;
        for (int i = 0; i < 300; i++) {
            if (adaptive && i % 17 == 0) {
                int kind = ops.nextInt(5);
                if (kind == 0) {
                    bp.updatePartitionLoadStats(null, null, 0);
                    out.append(onLine > 0 ? "\n" : "").append("\t\t\tstatsOff(),\n");
                    onLine = 0;
                    continue;
                }
                // Partitions with a leader, in ascending order, as the accumulator reports them.
                int[] q = new int[numPartitions];
                int[] ids = new int[numPartitions];
                int len = 0;
                for (int p = 0; p < numPartitions; p++) {
                    boolean hasLeader = true;
                    for (int l : leaderless) if (l == p) hasLeader = false;
                    if (!hasLeader) continue;
                    ids[len] = p;
                    q[len] = kind == 1 ? 2 : ops.nextInt(8);
                    len++;
                }
                // Exclusions (availability timeout) shorten the logical length.
                if (kind == 3 && len > 1) len -= 1 + ops.nextInt(len - 1);
                String qs = ints(q, len), is = ints(ids, len);
                bp.updatePartitionLoadStats(q, ids, len);
                out.append(onLine > 0 ? "\n" : "").append("\t\t\tstats(").append(numPartitions)
                    .append(", ").append(qs).append(", ").append(is).append("),\n");
                onLine = 0;
                continue;
            }
            int bytes = ops.nextInt(10) == 0 ? 0 : 1 + ops.nextInt(batchSize / 2 + 1);
            boolean enableSwitch = ops.nextInt(4) != 0;
            BuiltInPartitioner.StickyPartitionInfo info = bp.peekCurrentPartitionInfo(c);
            int partition = info.partition();
            bp.updatePartitionInfo(info, bytes, c, enableSwitch);
            out.append(onLine == 0 ? "\t\t\t" : " ").append("app(").append(bytes).append(", ").append(enableSwitch)
                .append(", ").append(partition).append("),");
            if (++onLine == 5) {
                out.append("\n");
                onLine = 0;
            }
        }
        out.append(onLine > 0 ? "\n" : "").append("\t\t},\n\t\trandom: []int32{");
        for (int i = 0; i < bp.used.size(); i++) out.append(i == 0 ? "" : ", ").append(bp.used.get(i));
        out.append("},\n\t},\n");
        System.out.print(out);
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    public static void main(String[] args) throws Exception {
        System.out.println("// Code generated by testdata/.../JavaGolden.java from kafka-clients; DO NOT EDIT.");
        System.out.println();
        System.out.println("package partition");
        System.out.println();

        System.out.println("// goldenKeys: Utils.murmur2 and BuiltInPartitioner.partitionForKey for 7 and 1000 partitions.");
        System.out.println("var goldenKeys = []goldenKey{");
        Random r = new Random(42);
        for (int len = 0; len <= 70; len++) {
            for (int rep = 0; rep < (len == 0 ? 1 : len < 10 ? 4 : 1); rep++) {
                byte[] k = new byte[len];
                r.nextBytes(k);
                System.out.printf("\t{\"%s\", %d, %d, %d},%n", hex(k), Utils.murmur2(k),
                    BuiltInPartitioner.partitionForKey(k, 7), BuiltInPartitioner.partitionForKey(k, 1000));
            }
        }
        System.out.println("}");
        System.out.println();

        System.out.println("// goldenTraces: BuiltInPartitioner driven through peek/update/load stats with a recorded random script.");
        System.out.println("var goldenTraces = []goldenTrace{");
        trace("uniform", 6, new int[0], 1000, false, 1);
        trace("leaderless", 6, new int[]{1, 4}, 500, false, 2);
        trace("all-leaderless", 5, new int[]{0, 1, 2, 3, 4}, 300, false, 3);
        trace("single", 1, new int[0], 50, false, 4);
        trace("adaptive", 8, new int[0], 400, true, 5);
        trace("adaptive-leaderless", 7, new int[]{2, 5}, 300, true, 6);
        System.out.println("}");
        System.out.println();

        // RoundRobinPartitioner: 20 calls, then the counter's int wrap-around.
        Cluster c = cluster("rr", 5, 3);
        RoundRobinPartitioner rr = new RoundRobinPartitioner();
        StringBuilder sb = new StringBuilder("// goldenRoundRobin: RoundRobinPartitioner.partition over 5 partitions, 3 leaderless.\nvar goldenRoundRobin = []int32{");
        for (int i = 0; i < 20; i++) sb.append(i == 0 ? "" : ", ").append(rr.partition("rr", null, null, null, null, c));
        System.out.println(sb.append("}"));
        rr.close();
    }
}

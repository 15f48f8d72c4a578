package io.linkcorrelator.bench;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedRequest;
import io.linkcorrelator.embedded.ReceivedSpan;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A against C end to end, on the embedded broker: the same pre-loaded records (4 input partitions,
 * each record with its own {@code traceparent}) are read, one run after the other, by the DSL
 * baseline ({@link BaselineApp}) and by the correlator's runnable jar, each in a JVM of its own
 * with the same settings (exactly_once_v2, the same commit interval, 1-second tumbling windows
 * without grace); the correlator exports over OTLP/HTTP to an {@link OtlpReceiver}. A run is timed
 * from its JVM's launch to the last result read (read_committed) from its output topic; then the
 * application is stopped and every changelog topic of its application id is read back.
 */
final class EndToEnd {

  /** Event-time windows per workload: keys × windows × contributors per window = records. */
  static final int WINDOWS = 20;

  static final long WINDOW_MS = 1_000;

  static final int PARTITIONS = 4;

  /** The same for both sides; Kafka Streams' default under exactly-once. */
  static final long COMMIT_INTERVAL_MS = 100;

  private static final byte[] RESULT_KEY_PREFIX = "customer-".getBytes(StandardCharsets.UTF_8);

  /** What reads the records. */
  enum Side {
    /** A: the DSL's windowed count with suppress, in its own JVM. */
    BASELINE("A baseline"),
    /** C: the correlator's runnable jar. */
    CORRELATOR("C correlator");

    final String label;

    Side(String label) {
      this.label = label;
    }
  }

  /**
   * One table cell's records, pre-loaded once into a topic of their own.
   *
   * @param perWindow contributors per (key, window)
   * @param keys keys, so that keys × {@link #WINDOWS} × perWindow = records
   * @param t0 event time of the first window's start
   */
  record Cell(int perWindow, int keys, long t0) {

    static Cell of(int records, int perWindow) {
      int keys = Math.max(1, records / perWindow / WINDOWS);
      long t0 = (System.currentTimeMillis() - Duration.ofHours(2).toMillis()) / 1000 * 1000;
      return new Cell(perWindow, keys, t0);
    }

    int records() {
      return keys * WINDOWS * perWindow;
    }

    /** Final results expected: one per key and window. */
    int results() {
      return keys * WINDOWS;
    }

    String topic() {
      return "bench-input-" + perWindow;
    }
  }

  /**
   * What one run measured.
   *
   * @param records records in the input
   * @param results final results read (one per key and window)
   * @param nanos from the application's launch to the last result read
   * @param secondHalfNanos from the result that made half of them to the last: the later half of
   *     the windows, and so of the records, without the launch and the first warm-up
   * @param changelogRecords records in the application's changelog topics afterwards
   * @param changelogBytes their keys' and values' bytes
   * @param spans aggregate spans received (C only)
   * @param p50Millis median from a window's close to its aggregate span's arrival (C only)
   * @param p99Millis 99th percentile of the same (C only)
   * @param roundTripP50Millis median export round trip: from the latest end of a request's spans
   *     until the receiver had decoded it (C only)
   * @param decodeP99Millis 99th percentile of the receiver's reading and decoding of a request, not
   *     part of the close → span times (C only)
   * @param cpu CPU time the application's JVM had used when its last result was read (all its
   *     threads, start-up and JIT compiling included)
   */
  record Result(
      int records,
      int results,
      long nanos,
      long secondHalfNanos,
      long changelogRecords,
      long changelogBytes,
      int spans,
      double p50Millis,
      double p99Millis,
      double roundTripP50Millis,
      double decodeP99Millis,
      double startMillis,
      double rebalanceMillis,
      JvmCpu cpu) {

    double recordsPerSecond() {
      return records * 1e9 / nanos;
    }

    double cpuMicrosPerRecord() {
      return cpu.microsPerRecord(records);
    }

    double runningCpuMicrosPerRecord() {
      return cpu.runningMicrosPerRecord(records);
    }

    double secondHalfRecordsPerSecond() {
      return records / 2.0 * 1e9 / secondHalfNanos;
    }

    double changelogBytesPerContributor() {
      return (double) changelogBytes / records;
    }

    double changelogRecordsPerContributor() {
      return (double) changelogRecords / records;
    }
  }

  /**
   * The median run of one side on one cell.
   *
   * @param side what ran
   * @param perWindow contributors per window
   * @param result its median run by records/s
   */
  record Measured(Side side, int perWindow, Result result) {}

  private final EmbeddedKafka kafka;
  private final Path correlatorJar;
  private final Path workDir;
  private int runs;

  EndToEnd(EmbeddedKafka kafka, Path correlatorJar, Path workDir) {
    if (!Files.isRegularFile(correlatorJar)) {
      throw new IllegalArgumentException(
          "the correlator's runnable jar "
              + correlatorJar.toAbsolutePath()
              + " is missing: build it with ./mvnw -B -q package -DskipTests, or name it with"
              + " --correlator-jar");
    }
    this.kafka = kafka;
    this.correlatorJar = correlatorJar;
    this.workDir = workDir;
  }

  /** Writes the cell's records into its topic, then one record per partition that closes all. */
  void preload(Cell cell) {
    kafka.createTopic(cell.topic(), PARTITIONS);
    byte[] value = "order-payload-16".getBytes(StandardCharsets.UTF_8);
    int perWindowOfAllKeys = cell.keys() * cell.perWindow();
    FirstFailure failed = new FirstFailure();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG,
                5,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                1),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < cell.records(); i++) {
        int window = i / perWindowOfAllKeys;
        int inWindow = i % perWindowOfAllKeys;
        long timestamp = cell.t0() + window * WINDOW_MS + inWindow * WINDOW_MS / perWindowOfAllKeys;
        ProducerRecord<String, byte[]> record =
            new ProducerRecord<>(
                cell.topic(), null, timestamp, "customer-" + inWindow % cell.keys(), value);
        record
            .headers()
            .add("traceparent", Workload.traceparent(i).getBytes(StandardCharsets.UTF_8));
        producer.send(record, failed);
        if (i % 10_000 == 9_999) {
          // bounded in flight: the broker shares the JVM and the cores, an unbounded burst of
          // batches waited past the delivery timeout once
          producer.flush();
        }
      }
      long closing = cell.t0() + (WINDOWS + 10) * WINDOW_MS;
      for (int partition = 0; partition < PARTITIONS; partition++) {
        producer.send(
            new ProducerRecord<>(cell.topic(), partition, closing, "closer", value), failed);
      }
    }
    if (failed.first.get() != null) {
      throw new IllegalStateException(
          "pre-loading " + cell.topic() + " failed", failed.first.get());
    }
    long written = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions =
          IntStream.range(0, PARTITIONS)
              .mapToObj(p -> new TopicPartition(cell.topic(), p))
              .toList();
      for (long end : consumer.endOffsets(partitions).values()) {
        written += end;
      }
    }
    if (written != cell.records() + PARTITIONS) {
      throw new IllegalStateException(
          cell.topic() + " holds " + written + " records, not " + (cell.records() + PARTITIONS));
    }
  }

  /** Keeps the first failed send of the pre-load, which then fails instead of measuring less. */
  private static final class FirstFailure implements Callback {
    private final AtomicReference<Exception> first = new AtomicReference<>();

    @Override
    public void onCompletion(RecordMetadata metadata, Exception exception) {
      if (exception != null) {
        first.compareAndSet(null, exception);
      }
    }
  }

  /** Runs one side {@code iterations} times on the pre-loaded cell; the median by records/s. */
  Measured measure(Side side, Cell cell, int iterations) throws Exception {
    List<Result> results = new ArrayList<>();
    for (int i = 0; i < iterations; i++) {
      results.add(run(side, cell));
    }
    results.sort(Comparator.comparingDouble(Result::recordsPerSecond));
    return new Measured(side, cell.perWindow(), results.get(results.size() / 2));
  }

  /** One run of one side on the pre-loaded cell. */
  Result run(Side side, Cell cell) throws Exception {
    String applicationId =
        "bench-" + side.name().toLowerCase() + "-" + cell.perWindow() + "-" + (++runs);
    String output = applicationId + "-output";
    kafka.createTopic(output, 1);
    Path log = workDir.resolve(applicationId + ".log");
    try (OtlpReceiver receiver = OtlpReceiver.start();
        KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      TopicPartition outputPartition = new TopicPartition(output, 0);
      consumer.assign(List.of(outputPartition));
      consumer.seekToBeginning(List.of(outputPartition));
      consumer.position(outputPartition);
      ProcessBuilder builder = processFor(side, cell, applicationId, output, receiver);
      builder.redirectErrorStream(true).redirectOutput(log.toFile());
      long start = System.nanoTime();
      long launchedAtMillis = System.currentTimeMillis();
      Process process = builder.start();
      try {
        int read = 0;
        long last = start;
        long half = start;
        long deadline = start + TimeUnit.MINUTES.toNanos(5);
        while (read < cell.results() && System.nanoTime() < deadline && process.isAlive()) {
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(20))) {
            if (Arrays.equals(
                record.key(),
                0,
                RESULT_KEY_PREFIX.length,
                RESULT_KEY_PREFIX,
                0,
                RESULT_KEY_PREFIX.length)) {
              read++;
              last = System.nanoTime();
              if (read == cell.results() / 2) {
                half = last;
              }
            }
          }
        }
        JvmCpu cpu = JvmCpu.of(process.toHandle());
        if (read < cell.results()) {
          throw new IllegalStateException(
              side.label
                  + " gave "
                  + read
                  + " of "
                  + cell.results()
                  + " results"
                  + (process.isAlive() ? " within 5 minutes" : " and exited")
                  + "; see "
                  + log);
        }
        List<ReceivedSpan> spans =
            side == Side.CORRELATOR
                ? receiver.awaitSpans(EndToEnd::isResultSpan, read, Duration.ofSeconds(60))
                : List.of();
        stop(process, log);
        long[] changelog = readChangelogs(applicationId);
        double[] latencies =
            spans.stream()
                .mapToDouble(
                    span -> (span.receivedAtEpochNanos() - span.span().getEndTimeUnixNano()) / 1e6)
                .sorted()
                .toArray();
        List<ReceivedRequest> requests =
            side == Side.CORRELATOR ? receiver.traceRequests() : List.of();
        double[] roundTrips =
            requests.stream()
                .filter(request -> request.spans() > 0)
                .mapToDouble(ReceivedRequest::roundTripMillis)
                .sorted()
                .toArray();
        double[] decodes =
            requests.stream().mapToDouble(ReceivedRequest::decodeMillis).sorted().toArray();
        writeRequests(requests, workDir.resolve(applicationId + "-requests.tsv"));
        double[] phases = phases(log, launchedAtMillis);
        return new Result(
            cell.records(),
            read,
            last - start,
            last - half,
            changelog[0],
            changelog[1],
            spans.size(),
            percentile(latencies, 0.5),
            percentile(latencies, 0.99),
            percentile(roundTrips, 0.5),
            percentile(decodes, 0.99),
            phases[0],
            phases[1],
            cpu);
      } finally {
        if (process.isAlive()) {
          process.destroyForcibly();
        }
      }
    }
  }

  /**
   * From the launch to Kafka Streams' start, and from there to RUNNING, read from the lines both
   * applications log on a state change ({@code Kafka Streams CREATED -> REBALANCING}), each
   * starting with its wall-clock time: ISO-8601 local time (the correlator's log) or an instant
   * ({@link BaselineApp}).
   */
  static double[] phases(Path log, long launchedAtMillis) throws IOException {
    long started = Long.MIN_VALUE;
    long running = Long.MIN_VALUE;
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (started == Long.MIN_VALUE && line.contains("Kafka Streams CREATED -> REBALANCING")) {
        started = logTime(line);
      } else if (running == Long.MIN_VALUE
          && line.contains("Kafka Streams REBALANCING -> RUNNING")) {
        running = logTime(line);
      }
    }
    return new double[] {
      started == Long.MIN_VALUE ? Double.NaN : started - launchedAtMillis,
      started == Long.MIN_VALUE || running == Long.MIN_VALUE ? Double.NaN : running - started
    };
  }

  private static long logTime(String line) {
    String time = line.substring(0, line.indexOf(' '));
    return time.endsWith("Z")
        ? java.time.Instant.parse(time).toEpochMilli()
        : java.time.LocalDateTime.parse(time.replace(',', '.'))
            .atZone(java.time.ZoneId.systemDefault())
            .toInstant()
            .toEpochMilli();
  }

  /** Each export request's timing, for a closer look than the table's percentiles. */
  private static void writeRequests(List<ReceivedRequest> requests, Path file) throws IOException {
    if (requests.isEmpty()) {
      return;
    }
    long origin = requests.get(0).earliestSpanEndEpochNanos();
    List<String> lines = new ArrayList<>();
    lines.add("spans\tearliest end ms\tlatest end ms\tarrived ms\tdecoded ms");
    for (ReceivedRequest request : requests) {
      lines.add(
          String.format(
              "%d\t%.1f\t%.1f\t%.1f\t%.1f",
              request.spans(),
              (request.earliestSpanEndEpochNanos() - origin) / 1e6,
              (request.latestSpanEndEpochNanos() - origin) / 1e6,
              (request.arrivedAtEpochNanos() - origin) / 1e6,
              (request.decodedAtEpochNanos() - origin) / 1e6));
    }
    Files.write(file, lines);
  }

  private static boolean isResultSpan(ReceivedSpan span) {
    return span.parentSpanId().isEmpty()
        && String.valueOf(span.attributes().get("correlator.group_key")).startsWith("customer-");
  }

  private ProcessBuilder processFor(
      Side side, Cell cell, String applicationId, String output, OtlpReceiver receiver)
      throws IOException {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "application.id=" + applicationId,
                "bootstrap.servers=" + kafka.bootstrapServers(),
                "processing.guarantee=exactly_once_v2",
                "commit.interval.ms=" + COMMIT_INTERVAL_MS,
                "state.dir=" + workDir.resolve("state-" + applicationId)));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path config = workDir.resolve(applicationId + ".properties");
    ProcessBuilder builder;
    if (side == Side.BASELINE) {
      lines.addAll(
          List.of(
              BaselineApp.INPUT + "=" + cell.topic(),
              BaselineApp.OUTPUT + "=" + output,
              BaselineApp.WINDOW_SIZE_MS + "=" + WINDOW_MS));
      builder =
          new ProcessBuilder(
              java,
              "-cp",
              System.getProperty("java.class.path"),
              BaselineApp.class.getName(),
              config.toString());
    } else {
      lines.addAll(
          List.of(
              "correlator.input.topics=" + cell.topic(),
              "correlator.output.topic=" + output,
              "correlator.window.type=tumbling",
              "correlator.window.size.ms=" + WINDOW_MS,
              "correlator.window.grace.ms=0"));
      builder = new ProcessBuilder(java, "-jar", correlatorJar.toString(), config.toString());
    }
    Files.writeString(config, String.join("\n", lines));
    Map<String, String> env = builder.environment();
    env.keySet()
        .removeIf(
            name ->
                name.startsWith("OTEL_")
                    || name.startsWith("KAFKA_")
                    || name.startsWith("CORRELATOR_"));
    if (side == Side.CORRELATOR) {
      env.put("OTEL_SERVICE_NAME", "link-correlator-bench");
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.httpEndpoint());
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", OtlpReceiver.HTTP);
      env.put("OTEL_METRICS_EXPORTER", "none");
      env.put("OTEL_LOGS_EXPORTER", "none");
    }
    return builder;
  }

  private static void stop(Process process, Path log) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("did not stop within 90 s of SIGTERM; see " + log);
    }
  }

  /** Records and key+value bytes in every changelog topic of the application id. */
  private long[] readChangelogs(String applicationId) throws Exception {
    Set<String> topics =
        kafka.admin().listTopics().names().get().stream()
            .filter(name -> name.startsWith(applicationId + "-") && name.endsWith("-changelog"))
            .collect(Collectors.toSet());
    if (topics.isEmpty()) {
      throw new IllegalStateException(applicationId + " has no changelog topic");
    }
    List<TopicPartition> partitions =
        kafka.admin().describeTopics(topics).allTopicNames().get().values().stream()
            .flatMap(
                topic ->
                    topic.partitions().stream()
                        .map(p -> new TopicPartition(topic.name(), p.partition())))
            .toList();
    long records = 0;
    long bytes = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read the changelogs of " + applicationId);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          records++;
          bytes +=
              Math.max(0, record.serializedKeySize()) + Math.max(0, record.serializedValueSize());
        }
      }
    }
    return new long[] {records, bytes};
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
            5_000),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  private static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  /** Prints the end-to-end table: per cell, A and C with C's ratio to A. */
  static void print(List<Measured> table, PrintStream out) {
    out.printf(
        "%n| contributors per window | keys × windows | variant | records/s | vs A | records/s of the later half (vs A) | application JVM's CPU per record, all / not compiling (vs A) | changelog bytes per contributor | changelog records per contributor | close → span at receiver p50 / p99 | export round trip p50 (receiver decode p99) | launch → streams start, rebalance |%n");
    out.println("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    Map<Integer, List<Measured>> byCell =
        table.stream()
            .collect(
                Collectors.groupingBy(
                    Measured::perWindow, LinkedHashMap::new, Collectors.toList()));
    byCell.forEach(
        (perWindow, rows) -> {
          Optional<Result> baseline =
              rows.stream()
                  .filter(m -> m.side() == Side.BASELINE)
                  .map(Measured::result)
                  .findFirst();
          ToDoubleFunction<ToDoubleFunction<Result>> ofA =
              measure -> baseline.map(measure::applyAsDouble).orElse(Double.NaN);
          for (Measured m : rows) {
            Result r = m.result();
            out.printf(
                "| %,d | %,d × %d | %s | %,.0f | %.2f× | %,.0f (%.2f×) | %.1f / %.1f µs (%.2f× / %.2f×) | %.1f | %.2f | %s | %s | %.1f s, %.1f s |%n",
                perWindow,
                r.results() / WINDOWS,
                WINDOWS,
                m.side().label,
                r.recordsPerSecond(),
                r.recordsPerSecond() / ofA.applyAsDouble(Result::recordsPerSecond),
                r.secondHalfRecordsPerSecond(),
                r.secondHalfRecordsPerSecond()
                    / ofA.applyAsDouble(Result::secondHalfRecordsPerSecond),
                r.cpuMicrosPerRecord(),
                r.runningCpuMicrosPerRecord(),
                r.cpuMicrosPerRecord() / ofA.applyAsDouble(Result::cpuMicrosPerRecord),
                r.runningCpuMicrosPerRecord()
                    / ofA.applyAsDouble(Result::runningCpuMicrosPerRecord),
                r.changelogBytesPerContributor(),
                r.changelogRecordsPerContributor(),
                m.side() == Side.CORRELATOR
                    ? String.format("%.0f / %.0f ms", r.p50Millis(), r.p99Millis())
                    : "—",
                m.side() == Side.CORRELATOR
                    ? String.format(
                        "%.0f ms (%.0f ms)", r.roundTripP50Millis(), r.decodeP99Millis())
                    : "—",
                r.startMillis() / 1000,
                r.rebalanceMillis() / 1000);
          }
        });
  }
}

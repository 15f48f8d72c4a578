package io.linkcorrelator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import io.linkcorrelator.embedded.ReceivedSpan;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the image and the compose stack ship, run as they run it, without a Docker engine: the
 * Dockerfile's {@code ENTRYPOINT} (with its {@code ENV}, and each {@code /app/...} path replaced by
 * the file its {@code COPY} line takes from this build) and the environment of the {@code
 * correlator} and {@code traffic} services of {@code docker-compose.yml}, against the embedded
 * broker (with the topics {@code kafka-init} creates) and an OTLP receiver standing in for the
 * Collector. Nothing here repeats a command line or a setting: a change to the Dockerfile or the
 * compose file is what this test runs.
 */
class ShippedStackIT {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern CREATE_TOPIC =
      Pattern.compile("--create .*--topic (\\S+) --partitions (\\d+)");

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void theImageEntrypointWithTheComposeEnvironmentLinksEveryOrderOfEachWindow() throws Exception {
    Path root = Path.of(System.getProperty("repository.root", "..")).toAbsolutePath().normalize();
    Dockerfile image = Dockerfile.read(root);
    JsonNode compose = YAML.readTree(root.resolve("docker-compose.yml").toFile());
    JsonNode correlatorService = compose.path("services").path("correlator");
    JsonNode trafficService = compose.path("services").path("traffic");
    String outputTopic = "order-windows";

    Map<String, String> hosts =
        Map.of(
            "kafka:9092", kafka.bootstrapServers(),
            "http://otel-collector:4317", receiver.grpcEndpoint(),
            "http://otel-collector:4318", receiver.httpEndpoint());
    createComposeTopics(compose, kafka);

    Map<String, String> correlatorEnv = image.env();
    correlatorEnv.putAll(environment(correlatorService, hosts));
    correlatorEnv.put("KAFKA_STATE_DIR", dir.resolve("state").toString());
    List<String> trafficCommand = image.command(strings(trafficService.path("entrypoint")));
    Map<String, String> trafficEnv = image.env();
    trafficEnv.putAll(environment(trafficService, hosts));

    Process correlator = start(image.command(image.entrypoint()), correlatorEnv, "correlator");
    Process traffic = start(trafficCommand, trafficEnv, "traffic");
    try {
      List<ConsumerRecord<String, WindowResult>> results =
          readResults(kafka, outputTopic, 4, Duration.ofSeconds(90), correlator);
      assertThat(results).as("results of the first windows; see target/it-logs").isNotEmpty();

      Set<String> producerSpans = new HashSet<>();
      receiver.spans(span -> span.resourceAttributes().get("service.name") != null).stream()
          .filter(span -> !span.name().startsWith("aggregate"))
          .forEach(span -> producerSpans.add(span.traceId() + "/" + span.spanId()));
      for (ConsumerRecord<String, WindowResult> record : results) {
        WindowResult result = record.value();
        Header traceparent = record.headers().lastHeader("traceparent");
        assertThat(traceparent).as("traceparent header of %s", record.key()).isNotNull();
        assertThat(new String(traceparent.value(), StandardCharsets.UTF_8))
            .contains(result.getTraceId() + "-" + result.getSpanId());
        List<ReceivedSpan> spans =
            receiver.awaitSpans(
                span -> span.traceId().equals(result.getTraceId()),
                1 + (int) Math.max(0, (result.getLinkedCount() - 1) / 128),
                Duration.ofSeconds(30));
        List<String> links =
            spans.stream()
                .flatMap(span -> span.links().stream())
                .map(link -> link.traceId() + "/" + link.spanId())
                .toList();
        assertThat(links)
            .as("links of window %s of %s", result.getWindowStart(), record.key())
            .hasSize((int) result.getLinkedCount())
            .doesNotHaveDuplicates();
        // Producer spans are exported in batches: give the traffic generator's last batch time.
        receiver.awaitSpans(
            span -> links.contains(span.traceId() + "/" + span.spanId()),
            links.size(),
            Duration.ofSeconds(30));
      }
      assertThat(results.stream().mapToLong(r -> r.value().getMessageCount()).sum()).isPositive();
    } finally {
      traffic.destroy();
      correlator.destroy();
      assertThat(traffic.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(correlator.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(correlator.exitValue()).as("exit status after SIGTERM").isEqualTo(143);
  }

  /** The topics the compose stack's {@code kafka-init} creates, with their partition counts. */
  private static void createComposeTopics(JsonNode compose, EmbeddedKafka kafka) {
    String script =
        String.join("\n", strings(compose.path("services").path("kafka-init").path("command")));
    Matcher create = CREATE_TOPIC.matcher(script);
    int created = 0;
    while (create.find()) {
      kafka.createTopic(create.group(1), Integer.parseInt(create.group(2)));
      created++;
    }
    assertThat(created).as("topics created by kafka-init").isPositive();
  }

  private static Map<String, String> environment(JsonNode service, Map<String, String> hosts) {
    Map<String, String> env = new LinkedHashMap<>();
    service
        .path("environment")
        .fields()
        .forEachRemaining(
            field -> {
              String value = field.getValue().asText();
              for (Map.Entry<String, String> host : hosts.entrySet()) {
                value = value.replace(host.getKey(), host.getValue());
              }
              env.put(field.getKey(), value);
            });
    assertThat(env).as("environment of a compose service").isNotEmpty();
    return env;
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(value -> values.add(value.asText()));
    return values;
  }

  private Process start(List<String> command, Map<String, String> env, String name)
      throws IOException {
    Path log = Path.of("target", "it-logs", name + ".log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder
        .environment()
        .keySet()
        .removeIf(
            key ->
                key.startsWith("OTEL_")
                    || key.startsWith("KAFKA_")
                    || key.startsWith("CORRELATOR_")
                    || key.startsWith("TRAFFIC_")
                    || key.startsWith("JAVA_TOOL_OPTIONS"));
    builder.environment().putAll(env);
    return builder.start();
  }

  private static List<ConsumerRecord<String, WindowResult>> readResults(
      EmbeddedKafka kafka, String topic, int atLeast, Duration timeout, Process correlator) {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    properties.put(ConsumerConfig.GROUP_ID_CONFIG, "shipped-stack-it");
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, WindowResult>> results = new ArrayList<>();
    try (KafkaConsumer<String, WindowResult> consumer =
        new KafkaConsumer<>(
            properties,
            new StringDeserializer(),
            AvroSerde.of(WindowResult.class).deserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (results.size() < atLeast && System.nanoTime() < deadline && correlator.isAlive()) {
        consumer.poll(Duration.ofMillis(250)).forEach(results::add);
      }
    }
    return results;
  }

  /**
   * The parts of the Dockerfile that decide how the image runs: {@code COPY} (which file of the
   * build lands where), {@code ENV} and {@code ENTRYPOINT} (exec form).
   */
  private record Dockerfile(
      Map<String, Path> copies, Map<String, String> environment, List<String> entrypoint) {

    static Dockerfile read(Path root) throws IOException {
      Map<String, Path> copies = new LinkedHashMap<>();
      Map<String, String> environment = new LinkedHashMap<>();
      List<String> entrypoint = List.of();
      String text = Files.readString(root.resolve("Dockerfile")).replace("\\\n", " ");
      for (String line : text.lines().map(String::strip).toList()) {
        String[] words = line.split("\\s+");
        switch (words[0].toUpperCase()) {
          case "COPY" -> {
            List<String> args =
                java.util.Arrays.stream(words).skip(1).filter(w -> !w.startsWith("--")).toList();
            copies.put(args.get(args.size() - 1), root.resolve(args.get(0)));
          }
          case "ENV" -> {
            Matcher pair = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(line);
            while (pair.find()) {
              environment.put(pair.group(1), pair.group(2).replaceAll("^\"|\"$", ""));
            }
          }
          case "ENTRYPOINT" ->
              entrypoint = strings(YAML.readTree(line.substring("ENTRYPOINT".length())));
          default -> {}
        }
      }
      assertThat(entrypoint).as("the Dockerfile's ENTRYPOINT, exec form").isNotEmpty();
      return new Dockerfile(copies, environment, entrypoint);
    }

    /** The command with each path of the image replaced by the build's file copied there. */
    List<String> command(List<String> command) {
      List<String> mapped = new ArrayList<>();
      for (String word : command) {
        Path copied = copies.get(word);
        if (word.startsWith("/app/")) {
          assertThat(copied).as("COPY line for %s", word).isNotNull();
          assertThat(copied).as("%s, built by ./mvnw package", copied).isRegularFile();
        }
        mapped.add(copied == null ? word : copied.toString());
      }
      if (mapped.get(0).equals("java")) {
        mapped.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
      }
      return mapped;
    }

    Map<String, String> env() {
      return new LinkedHashMap<>(environment);
    }
  }
}

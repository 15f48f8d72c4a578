package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.WindowSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AppConfigTest {

  private static Properties minimal() {
    Properties properties = new Properties();
    properties.put("application.id", "app");
    properties.put("bootstrap.servers", "localhost:9092");
    properties.put("correlator.input.topics", "orders, returns");
    properties.put("correlator.output.topic", "windows");
    return properties;
  }

  @Test
  void theExampleFileInTheRepositoryIsValid() {
    Path example =
        Path.of(System.getProperty("repository.root", ".."))
            .resolve("config/correlator.properties");

    AppConfig config = AppConfig.load(example, Map.of());

    assertThat(config.correlator().inputTopics()).containsExactly("orders");
    assertThat(config.correlator().groupBy()).isEqualTo(GroupBy.valueField("customer.id"));
    assertThat(config.correlator().valueFormat()).isEqualTo(ValueFormat.JSON);
    assertThat(config.correlator().aggregateField()).isEqualTo("amount");
    assertThat(config.streams().getProperty("processing.guarantee")).isEqualTo("exactly_once_v2");
    assertThat(config.streams().getProperty("errors.dead.letter.queue.topic.name"))
        .isEqualTo("orders-dead-letters");
  }

  @Test
  void defaultsApplyAndKafkaSettingsPassThrough() {
    Properties properties = minimal();
    properties.put("num.stream.threads", "2");

    AppConfig config = AppConfig.of(properties, Map.of());

    CorrelatorConfig correlator = config.correlator();
    assertThat(correlator.applicationId()).isEqualTo("app");
    assertThat(correlator.inputTopics()).containsExactly("orders", "returns");
    assertThat(correlator.window().type()).isEqualTo(WindowType.TUMBLING);
    assertThat(correlator.window().sizeMs()).isEqualTo(60_000);
    assertThat(correlator.window().graceMs()).isEqualTo(10_000);
    assertThat(correlator.maxLinksPerSpan()).isEqualTo(128);
    assertThat(config.streams().getProperty("num.stream.threads")).isEqualTo("2");
    assertThat(config.streams().getProperty("processing.exception.handler"))
        .isEqualTo(DeadLetterHandler.class.getName());
    assertThat(config.streams()).doesNotContainKey("correlator.input.topics");
  }

  @Test
  void theHealthEndpointsAreOffUnlessAPortIsSet() {
    assertThat(AppConfig.of(minimal(), Map.of()).healthPort()).isZero();

    AppConfig config = AppConfig.of(minimal(), Map.of("CORRELATOR_HEALTH_PORT", "8080"));

    assertThat(config.healthPort()).isEqualTo(8080);
    assertThat(config.streams()).doesNotContainKey(AppConfig.HEALTH_PORT);
  }

  @Test
  void aHealthPortOutsideOneTo65535FailsNamingTheKey() {
    for (String bad : new String[] {"0", "65536", "-1", "http"}) {
      Properties properties = minimal();
      properties.put(AppConfig.HEALTH_PORT, bad);

      assertThatThrownBy(() -> AppConfig.of(properties, Map.of()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(AppConfig.HEALTH_PORT)
          .hasMessageContaining(bad);
    }
  }

  @Test
  void theEnvironmentOverridesEveryKey() {
    AppConfig config =
        AppConfig.of(
            minimal(),
            Map.of(
                "CORRELATOR_WINDOW_TYPE", "hopping",
                "CORRELATOR_WINDOW_SIZE_MS", "10000",
                "CORRELATOR_WINDOW_ADVANCE_MS", "5000",
                "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                "KAFKA_PROCESSING_GUARANTEE", "exactly_once_v2",
                "HOME", "/root"));

    assertThat(config.correlator().window())
        .isEqualTo(
            WindowSpec.hopping(
                java.time.Duration.ofSeconds(10),
                java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(10)));
    assertThat(config.streams().getProperty("bootstrap.servers")).isEqualTo("kafka:9092");
    assertThat(config.streams().getProperty("processing.guarantee")).isEqualTo("exactly_once_v2");
    assertThat(AppConfig.envName("correlator.links.per.span.max"))
        .isEqualTo("CORRELATOR_LINKS_PER_SPAN_MAX");
    assertThat(AppConfig.envName("bootstrap.servers")).isEqualTo("KAFKA_BOOTSTRAP_SERVERS");
  }

  @Test
  void badValuesFailNamingTheKeyAndTheAcceptedValues() {
    assertFails(
        "correlator.window.type",
        "fixed",
        "correlator.window.type must be one of tumbling, hopping, sliding, session; got 'fixed'");
    assertFails(
        "correlator.window.size.ms",
        "1m",
        "correlator.window.size.ms must be a whole number of milliseconds; got '1m'");
    assertFails(
        "correlator.group.by",
        "customer",
        "correlator.group.by must be key, header:NAME or field:PATH");
    assertFails(
        "correlator.trace.extract",
        "w3c",
        "correlator.trace.extract must be a comma-separated list of tracecontext, datadog, b3, jaeger");
    assertFails(
        "correlator.aggregate.functions",
        "avg",
        "correlator.aggregate.functions must be a comma-separated list of sum, min, max");
    assertFails("correlator.links.per.span.max", "0", "correlator.links.per.span.max must be >= 1");
    assertFails(
        "correlator.value.schema",
        "classpath:nope.avsc",
        "correlator.value.schema: no class-path resource nope.avsc");
    assertFails("correlator.input.topic", "x", "unknown key correlator.input.topic");
    assertFails(
        "correlator.value.format",
        "xml",
        "correlator.value.format must be one of avro, json, none; got 'xml'");
    assertFails(
        "correlator.thread.replacements.max",
        "-1",
        "correlator.thread.replacements.max must be >= 0");
    assertFails(
        "correlator.thread.replacements.interval.ms",
        "0",
        "correlator.thread.replacements.interval.ms must be > 0");
    assertFails(
        "correlator.close.timeout.ms", "30s", "correlator.close.timeout.ms must be a whole");
    Properties noApp = minimal();
    noApp.remove("application.id");
    assertThatThrownBy(() -> AppConfig.of(noApp, Map.of()))
        .hasMessageContaining("application.id is required");
    Properties noInput = minimal();
    noInput.remove("correlator.input.topics");
    assertThatThrownBy(() -> AppConfig.of(noInput, Map.of()))
        .hasMessageContaining("correlator.input.topics must name at least one topic");
    assertThatThrownBy(() -> AppConfig.load(Path.of("/no/such/file.properties"), Map.of()))
        .hasMessageContaining("cannot read configuration file /no/such/file.properties");
  }

  @Test
  void kubernetesServiceLinksAndUnknownVariablesAreIgnoredNotFatal() {
    Map<String, String> env = new java.util.HashMap<>();
    // What Kubernetes injects for Services named correlator, correlator-health and kafka.
    env.put("CORRELATOR_SERVICE_HOST", "10.0.0.7");
    env.put("CORRELATOR_SERVICE_PORT", "8080");
    env.put("CORRELATOR_SERVICE_PORT_HEALTH", "8080");
    env.put("CORRELATOR_PORT", "tcp://10.0.0.7:8080");
    env.put("CORRELATOR_PORT_8080_TCP", "tcp://10.0.0.7:8080");
    env.put("CORRELATOR_PORT_8080_TCP_PROTO", "tcp");
    env.put("CORRELATOR_PORT_8080_TCP_PORT", "8080");
    env.put("CORRELATOR_PORT_8080_TCP_ADDR", "10.0.0.7");
    env.put("CORRELATOR_HEALTH_SERVICE_HOST", "10.0.0.8");
    env.put("KAFKA_SERVICE_HOST", "10.0.0.9");
    env.put("KAFKA_PORT", "tcp://10.0.0.9:9092");
    env.put("KAFKA_PORT_9092_TCP_ADDR", "10.0.0.9");
    // A typo and a name that is no Kafka setting.
    env.put("CORRELATOR_WINDOW_SIZE", "1");
    env.put("KAFKA_HEAP_OPTS", "-Xmx1g");
    // Real settings still apply, also a client's under its prefix.
    env.put("CORRELATOR_WINDOW_SIZE_MS", "5000");
    env.put("KAFKA_PRODUCER_LINGER_MS", "20");
    env.put("KAFKA_TOPIC_SEGMENT_BYTES", "1048576");

    AppConfig config = AppConfig.of(minimal(), env);

    assertThat(config.correlator().window().sizeMs()).isEqualTo(5000);
    assertThat(config.streams().getProperty("producer.linger.ms")).isEqualTo("20");
    assertThat(config.streams().getProperty("topic.segment.bytes")).isEqualTo("1048576");
    assertThat(config.streams())
        .doesNotContainKeys("port", "service.host", "port.9092.tcp.addr", "heap.opts");
    assertThat(config.ignoredEnvironment())
        .containsEntry("CORRELATOR_SERVICE_HOST", "service link")
        .containsEntry("CORRELATOR_SERVICE_PORT_HEALTH", "service link")
        .containsEntry("CORRELATOR_PORT", "service link")
        .containsEntry("CORRELATOR_PORT_8080_TCP_ADDR", "service link")
        .containsEntry("CORRELATOR_HEALTH_SERVICE_HOST", "service link")
        .containsEntry("KAFKA_PORT", "service link")
        .containsEntry("KAFKA_PORT_9092_TCP_ADDR", "service link")
        .containsEntry("CORRELATOR_WINDOW_SIZE", "unknown")
        .containsEntry("KAFKA_HEAP_OPTS", "unknown")
        .hasSize(14);
  }

  @Test
  void theAppSettingsHaveTheirDocumentedDefaults() {
    AppConfig config = AppConfig.of(minimal(), Map.of());

    assertThat(config.threadReplacementsMax()).isEqualTo(3);
    assertThat(config.threadReplacementsInterval()).isEqualTo(java.time.Duration.ofMinutes(5));
    assertThat(config.closeTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(config.correlator().valueFormat()).isEqualTo(ValueFormat.NONE);
  }

  private static void assertFails(String key, String value, String message) {
    Properties properties = minimal();
    properties.put(key, value);
    assertThatThrownBy(() -> AppConfig.of(properties, Map.of()))
        .as(key)
        .hasMessageContaining(message);
  }
}

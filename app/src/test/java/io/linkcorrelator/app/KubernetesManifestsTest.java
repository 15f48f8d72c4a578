package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * The manifests in {@code deploy/kubernetes/} agree with the application: probes on the health
 * endpoints and port it serves, the state directory on the persistent volume, environment names
 * that are real configuration keys, a grace period longer than a stop can take, and the image the
 * README builds. No cluster: the YAML is parsed and checked field by field.
 */
class KubernetesManifestsTest {

  private static final Path ROOT = Path.of(System.getProperty("repository.root", ".."));
  private static final Path DIR = ROOT.resolve("deploy/kubernetes");

  /** OpenTelemetry's SDK environment variables the manifests may set. */
  private static final Set<String> OTEL_VARIABLES =
      Set.of(
          "OTEL_SERVICE_NAME",
          "OTEL_RESOURCE_ATTRIBUTES",
          "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_PROTOCOL",
          "OTEL_METRICS_EXPORTER",
          "OTEL_METRIC_EXPORT_INTERVAL",
          "OTEL_BSP_MAX_QUEUE_SIZE",
          "OTEL_BSP_SCHEDULE_DELAY");

  private final JsonNode configMap = manifest("configmap.yaml", "ConfigMap");
  private final JsonNode service = manifest("service.yaml", "Service");
  private final JsonNode statefulSet = manifest("statefulset.yaml", "StatefulSet");
  private final JsonNode pod = statefulSet.at("/spec/template/spec");
  private final JsonNode container = pod.at("/containers/0");
  private final Map<String, String> env = configMapEnv();

  private static JsonNode manifest(String file, String kind) {
    try {
      JsonNode node = new YAMLMapper().readTree(DIR.resolve(file).toFile());
      assertThat(node.path("kind").asText()).as(file).isEqualTo(kind);
      return node;
    } catch (IOException e) {
      throw new AssertionError("cannot read " + DIR.resolve(file), e);
    }
  }

  private Map<String, String> configMapEnv() {
    Map<String, String> data = new HashMap<>();
    configMap.path("data").properties().forEach(e -> data.put(e.getKey(), e.getValue().asText()));
    return data;
  }

  @Test
  void theKustomizationListsEveryManifest() throws IOException {
    JsonNode kustomization = new YAMLMapper().readTree(DIR.resolve("kustomization.yaml").toFile());
    List<String> listed = new ArrayList<>();
    kustomization.path("resources").forEach(resource -> listed.add(resource.asText()));
    try (Stream<Path> files = Files.list(DIR)) {
      assertThat(listed)
          .containsExactlyInAnyOrderElementsOf(
              files
                  .map(file -> file.getFileName().toString())
                  .filter(name -> name.endsWith(".yaml") && !name.equals("kustomization.yaml"))
                  .toList());
    }
  }

  @Test
  void theConfigMapIsAValidConfigurationOverTheImagesFileAndTheContainerTakesIt() {
    AppConfig config = AppConfig.load(ROOT.resolve("config/correlator.properties"), env);

    assertThat(config.healthPort()).isEqualTo(container.at("/ports/0/containerPort").asInt());
    assertThat(container.at("/envFrom/0/configMapRef/name").asText())
        .isEqualTo(configMap.at("/metadata/name").asText());
  }

  @Test
  void everyEnvironmentNameIsARealConfigurationKey() {
    Set<String> kafkaKeys = new HashSet<>(StreamsConfig.configDef().names());
    kafkaKeys.addAll(ConsumerConfig.configNames());
    kafkaKeys.addAll(ProducerConfig.configNames());
    kafkaKeys.addAll(AdminClientConfig.configNames());
    Map<String, String> names = new HashMap<>(env);
    container
        .path("env")
        .forEach(e -> names.put(e.path("name").asText(), e.path("value").asText()));

    assertThat(names.keySet())
        .allSatisfy(
            name -> {
              if (name.startsWith("CORRELATOR_")) {
                assertThat(AppConfig.KEYS.keySet().stream().map(AppConfig::envName))
                    .as(name)
                    .contains(name);
              } else if (name.startsWith("KAFKA_")) {
                assertThat(kafkaKeys.stream().map(AppConfig::envName)).as(name).contains(name);
              } else if (name.startsWith("OTEL_")) {
                assertThat(OTEL_VARIABLES).as(name).contains(name);
              } else {
                assertThat(names.values())
                    .as("%s is neither a configuration key nor used by one", name)
                    .anyMatch(value -> value.contains("$(" + name + ")"));
              }
            });
  }

  @Test
  void probesAskTheHealthEndpointsOnTheHealthPort() {
    int port = Integer.parseInt(env.get(AppConfig.envName(AppConfig.HEALTH_PORT)));
    JsonNode healthPort = container.at("/ports/0");
    assertThat(healthPort.path("name").asText()).isEqualTo("health");
    assertThat(healthPort.path("containerPort").asInt()).isEqualTo(port);

    assertThat(container.at("/livenessProbe/httpGet/path").asText())
        .isEqualTo(HealthServer.LIVE_PATH);
    assertThat(container.at("/livenessProbe/httpGet/port").asText()).isEqualTo("health");
    assertThat(container.at("/readinessProbe/httpGet/path").asText())
        .isEqualTo(HealthServer.READY_PATH);
    assertThat(container.at("/readinessProbe/httpGet/port").asText()).isEqualTo("health");
    assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("health");
    assertThat(service.at("/spec/selector"))
        .isEqualTo(statefulSet.at("/spec/selector/matchLabels"));
    assertThat(statefulSet.at("/spec/serviceName").asText())
        .isEqualTo(service.at("/metadata/name").asText());
  }

  @Test
  void theStateDirectoryIsOnThePersistentVolume() {
    String volume = statefulSet.at("/spec/volumeClaimTemplates/0/metadata/name").asText();
    JsonNode mount = container.at("/volumeMounts/0");

    assertThat(mount.path("name").asText()).isEqualTo(volume);
    assertThat(mount.path("mountPath").asText())
        .isEqualTo(env.get(AppConfig.envName(StreamsConfig.STATE_DIR_CONFIG)));
  }

  @Test
  void theGracePeriodOutlastsClosingKafkaStreamsAndFlushingSpans() {
    // Kafka Streams' close, then the span flush, each bounded by correlator.close.timeout.ms.
    long closeTimeoutMs =
        Long.parseLong(
            env.getOrDefault(
                AppConfig.envName(AppConfig.CLOSE_TIMEOUT_MS),
                String.valueOf(AppConfig.DEFAULT_CLOSE_TIMEOUT_MS)));
    long stopAtMostSeconds = 2 * closeTimeoutMs / 1000;

    assertThat(pod.path("terminationGracePeriodSeconds").asLong()).isGreaterThan(stopAtMostSeconds);
  }

  @Test
  void podsGetNoServiceLinkVariablesAndResourcesAreBounded() {
    assertThat(pod.path("enableServiceLinks").isBoolean()).isTrue();
    assertThat(pod.path("enableServiceLinks").asBoolean()).isFalse();
    assertThat(container.at("/resources/requests/cpu").isMissingNode()).isFalse();
    assertThat(container.at("/resources/limits/memory").isMissingNode()).isFalse();
  }

  @Test
  void theImageIsTheOneTheReadmeBuilds() throws IOException {
    String image = container.path("image").asText();

    assertThat(Files.readString(ROOT.resolve("README.md")))
        .contains("docker build -t " + image + " .");
  }
}

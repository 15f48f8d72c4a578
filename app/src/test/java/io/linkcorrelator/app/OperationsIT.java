package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.embedded.EmbeddedKafka;
import io.linkcorrelator.embedded.OtlpReceiver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator's tooling sees of the real application in its own JVM: the health and readiness
 * endpoints an orchestrator probes, and the metrics that arrive at an OTLP backend.
 */
class OperationsIT {

  @AutoClose private final EmbeddedKafka kafka = EmbeddedKafka.start();
  @AutoClose private final OtlpReceiver receiver = OtlpReceiver.start();

  @TempDir Path dir;

  @Test
  void readinessTurnsTrueOnlyOnceRunningAndFalseWhileASecondInstanceJoins() throws Exception {
    AppTestKit.createTopics(kafka);
    int portOne = freePort();
    int portTwo = freePort();
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    Path configOne =
        AppTestKit.config(dir, "one", "readiness", "correlator.health.port=" + portOne);
    Path configTwo =
        AppTestKit.config(dir, "two", "readiness", "correlator.health.port=" + portTwo);
    Probe one = new Probe(portOne);
    Probe two = new Probe(portTwo);

    try (CorrelatorProcess first = CorrelatorProcess.start(configOne, env, "readiness-one")) {
      List<Answer> starting =
          one.readinessUntilLast(Answer::ready, Duration.ofSeconds(120), first::isAlive);
      assertThat(starting).as("log: %s", first.log()).last().matches(Answer::ready);
      List<Answer> beforeReady = starting.subList(0, starting.size() - 1);
      assertThat(beforeReady)
          .as("answers before the first 200")
          .filteredOn(Answer::answered)
          .isNotEmpty()
          .allSatisfy(
              answer -> {
                assertThat(answer.status()).isEqualTo(503);
                assertThat(answer.state()).isNotEqualTo("RUNNING");
              });
      assertThat(one.live()).isEqualTo(new Answer(200, "RUNNING"));

      try (CorrelatorProcess second = CorrelatorProcess.start(configTwo, env, "readiness-two")) {
        // Instance one rebalances while instance two joins: not ready, then ready again.
        List<Answer> rebalancing =
            one.readinessUntil(
                sawInOrder(
                    answer -> answer.state().equals("REBALANCING"),
                    answer -> answer.state().equals("RUNNING")),
                Duration.ofSeconds(120),
                () -> first.isAlive() && second.isAlive());
        assertThat(rebalancing)
            .as("instance one's readiness while two joins; logs %s, %s", first.log(), second.log())
            .anyMatch(answer -> answer.status() == 503 && answer.state().equals("REBALANCING"))
            .allSatisfy(
                answer -> assertThat(answer.ready()).isEqualTo(answer.state().equals("RUNNING")));
        assertThat(one.live()).as("alive throughout").extracting(Answer::status).isEqualTo(200);
        List<Answer> joining =
            two.readinessUntilLast(Answer::ready, Duration.ofSeconds(120), second::isAlive);
        assertThat(joining)
            .allSatisfy(
                answer -> assertThat(answer.ready()).isEqualTo(answer.state().equals("RUNNING")));
        assertThat(second.stop()).isEqualTo(143);
      }
      assertThat(first.stop()).isEqualTo(143);
    }
  }

  @Test
  void kafkaStreamsClientAndCorrelatorMetricsArriveAtTheReceiver() throws Exception {
    int messages = 200;
    int keys = 10;
    long step = 20; // every message in the first 10 s window of its key: 10 windows stay open
    AppTestKit.createTopics(kafka);
    Path config = AppTestKit.config(dir, "metrics", "metrics");
    Map<String, String> env = AppTestKit.env(kafka, receiver, false);
    env.put("OTEL_METRICS_EXPORTER", "otlp");
    env.put("OTEL_METRIC_EXPORT_INTERVAL", "1000");
    Duration wait = Duration.ofSeconds(120);

    try (CorrelatorProcess correlator = CorrelatorProcess.start(config, env, "metrics")) {
      AppTestKit.send(kafka, 0, messages, keys, step);
      double lagAtLeast =
          (System.currentTimeMillis() - (AppTestKit.T0 + (messages - 1) * step)) / 1_000.0;

      // Kafka Streams' own metrics and its clients'
      receiver.awaitMetric("kafka.stream_thread.process_total", sumAtLeast(messages), wait);
      receiver.awaitMetric("kafka.stream_thread.commit_latency_avg", p -> !p.isEmpty(), wait);
      receiver.awaitMetric(
          "kafka.consumer_fetch_manager.records_consumed_total", sumAtLeast(messages), wait);
      receiver.awaitMetric("kafka.producer.record_send_total", sumAtLeast(1), wait);
      // the correlator's
      receiver.awaitMetric(
          "correlator.records",
          p ->
              p.getOrDefault("correlator.outcome=linked", 0.0)
                      + p.getOrDefault("correlator.outcome=unlinked", 0.0)
                  == messages,
          wait);
      receiver.awaitMetric("correlator.windows.open", sumIs(keys), wait);
      // each key's messages in pages of its own, at most one page per message
      receiver.awaitMetric(
          "correlator.contributor_log.pages",
          p -> !p.isEmpty() && sum(p) >= keys && sum(p) <= messages,
          wait);
      assertThat(receiver.awaitMetric("correlator.stream_time.lag", p -> !p.isEmpty(), wait))
          .hasEntrySatisfying("", lag -> assertThat(lag).isGreaterThanOrEqualTo(lagAtLeast));
      assertThat(receiver.awaitMetric("correlator.export.waiting", p -> !p.isEmpty(), wait))
          .containsExactly(Map.entry("", 1.0));
      assertThat(receiver.awaitMetric("correlator.spans.dropped", p -> !p.isEmpty(), wait))
          .containsOnly(
              Map.entry("error.type=export_failed", 0.0), Map.entry("error.type=shutdown", 0.0));

      // The backend goes down while every window closes: results stop waiting, spans are lost.
      receiver.stop();
      AppTestKit.closeAllWindows(kafka);
      awaitLog(correlator, "span export not confirmed", wait);
      awaitLog(correlator, "Failed to export \\d+ spans", wait); // the exporter gave up
      receiver.restart();
      receiver.awaitMetric("correlator.export.waiting", sumIs(0), wait);
      receiver.awaitMetric("correlator.spans.dropped", p -> sum(p) > 0, wait);
      receiver.awaitMetric("otel.sdk.processor.span.processed", p -> sum(p) > 0, wait);
      assertThat(correlator.stop()).isEqualTo(143);
    }
    assertThat(receiver.metricNames())
        .as("names follow OpenTelemetry's conventions")
        .allSatisfy(name -> assertThat(name).matches("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+"));
  }

  private static double sum(Map<String, Double> points) {
    return points.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  private static Predicate<Map<String, Double>> sumAtLeast(double value) {
    return points -> sum(points) >= value;
  }

  private static Predicate<Map<String, Double>> sumIs(double value) {
    return points -> !points.isEmpty() && sum(points) == value;
  }

  private static void awaitLog(CorrelatorProcess process, String regex, Duration timeout) {
    Pattern line = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!line.matcher(AppTestKit.log(process)).find()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new AssertionError("no '" + regex + "' in " + process.log());
      }
      AppTestKit.sleep(Duration.ofMillis(200));
    }
  }

  /** A predicate over everything seen so far: the first matched, and later the second. */
  private static Predicate<List<Answer>> sawInOrder(
      Predicate<Answer> first, Predicate<Answer> then) {
    return answers -> {
      int at = -1;
      for (int i = 0; i < answers.size(); i++) {
        if (first.test(answers.get(i))) {
          at = i;
          break;
        }
      }
      return at >= 0 && answers.subList(at + 1, answers.size()).stream().anyMatch(then);
    };
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One answer of a probe: the HTTP status (-1: nothing listening) and the state it named. */
  record Answer(int status, String state) {
    boolean answered() {
      return status != -1;
    }

    boolean ready() {
      return status == 200;
    }
  }

  /** Probes one instance's endpoints as fast as it answers, as a kubelet would, only faster. */
  static final class Probe {
    private static final Pattern STATE = Pattern.compile("\"state\":\"([A-Z_]+)\"");
    private final HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final int port;

    Probe(int port) {
      this.port = port;
    }

    Answer live() {
      return get(HealthServer.LIVE_PATH);
    }

    Answer ready() {
      return get(HealthServer.READY_PATH);
    }

    /**
     * Probes readiness until the answers so far satisfy {@code done}, the process died or the time
     * is up.
     */
    List<Answer> readinessUntil(
        Predicate<List<Answer>> done, Duration timeout, BooleanSupplier alive) {
      List<Answer> answers = new ArrayList<>();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!done.test(answers) && alive.getAsBoolean() && System.nanoTime() < deadline) {
        Answer answer = ready();
        if (!answer.answered()) {
          AppTestKit.sleep(Duration.ofMillis(20)); // not listening yet
        }
        answers.add(answer);
      }
      return answers;
    }

    List<Answer> readinessUntilLast(
        Predicate<Answer> last, Duration timeout, BooleanSupplier alive) {
      return readinessUntil(
          answers -> !answers.isEmpty() && last.test(answers.get(answers.size() - 1)),
          timeout,
          alive);
    }

    private Answer get(String path) {
      try {
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher state = STATE.matcher(response.body());
        return new Answer(response.statusCode(), state.find() ? state.group(1) : "");
      } catch (IOException e) {
        return new Answer(-1, "");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}

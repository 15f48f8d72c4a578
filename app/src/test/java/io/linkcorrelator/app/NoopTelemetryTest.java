package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.DeadLetterHandler;
import io.linkcorrelator.streams.DeterministicIds;
import io.linkcorrelator.streams.WindowSpec;
import io.opentelemetry.api.OpenTelemetry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a no-op OpenTelemetry (tracing disabled, or an SDK already shut down), results still carry
 * the window's deterministic ids, never all-zero ones.
 */
class NoopTelemetryTest {

  @TempDir Path stateDir;

  @Test
  void resultsNameTheWindowsDeterministicSpanWhenTracingIsOff() {
    CorrelatorConfig config =
        CorrelatorConfig.builder()
            .applicationId("noop")
            .inputTopics("events")
            .outputTopic("results")
            .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO))
            .build();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "noop");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(
        StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class.getName());
    try (TopologyTestDriver driver =
        new TopologyTestDriver(CorrelatorTopology.build(config, OpenTelemetry.noop()), props)) {
      var input =
          driver.createInputTopic("events", new StringSerializer(), new ByteArraySerializer());
      input.pipeInput(
          new TestRecord<>("k", new byte[] {1}, CorrelatorHarness.traced(1), CorrelatorHarness.T0));
      input.pipeInput(
          new TestRecord<>(
              "k", new byte[] {1}, CorrelatorHarness.traced(2), CorrelatorHarness.T0 + 120_000));

      TestRecord<String, WindowResult> result =
          driver
              .createOutputTopic(
                  "results",
                  new StringDeserializer(),
                  AvroSerde.of(WindowResult.class).deserializer())
              .readRecord();
      DeterministicIds.WindowIds ids =
          DeterministicIds.forWindow(
              "noop", "k", "TUMBLING", CorrelatorHarness.T0, CorrelatorHarness.T0 + 60_000);

      assertThat(result.value().getTraceId()).isEqualTo(ids.traceId());
      assertThat(result.value().getSpanId()).isEqualTo(ids.spanId());
      assertThat(
              new String(
                  result.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8))
          .isEqualTo("00-" + ids.traceId() + "-" + ids.spanId() + "-01");
    }
  }
}

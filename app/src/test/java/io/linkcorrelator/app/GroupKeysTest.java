package io.linkcorrelator.app;

import static io.linkcorrelator.app.CorrelatorHarness.T0;
import static io.linkcorrelator.app.CorrelatorHarness.traced;
import static org.assertj.core.api.Assertions.assertThat;

import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.serdes.AvroSerde;
import io.linkcorrelator.streams.GroupKeys;
import io.linkcorrelator.streams.WindowSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group keys keep their bytes, and state keys name the original message in full. */
class GroupKeysTest {

  @TempDir Path stateDir;

  private static CorrelatorConfig.Builder config() {
    return CorrelatorConfig.builder()
        .applicationId("group-keys")
        .inputTopics("events")
        .outputTopic("results")
        .window(WindowSpec.tumbling(Duration.ofSeconds(10), Duration.ZERO));
  }

  @Test
  void utf8KeysReadAsThemselvesAndOtherBytesAsPrefixedBase64() {
    assertThat(GroupKeys.of("customer-1 ü".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("customer-1 ü");
    assertThat(GroupKeys.of(new byte[] {(byte) 0x80})).isEqualTo("base64:gA==");
    assertThat(GroupKeys.of("base64:gA==".getBytes(StandardCharsets.UTF_8)))
        .as("text that looks encoded is encoded itself, so it cannot collide")
        .isEqualTo("base64:YmFzZTY0OmdBPT0=");
  }

  @Test
  void everySingleByteKeyFrom0To255IsAWindowOfItsOwn() {
    try (CorrelatorHarness harness = new CorrelatorHarness(config().build(), stateDir)) {
      TestInputTopic<byte[], byte[]> input =
          harness.driver.createInputTopic(
              "events", new ByteArraySerializer(), new ByteArraySerializer());
      for (int b = 0; b <= 255; b++) {
        input.pipeInput(new TestRecord<>(new byte[] {(byte) b}, new byte[] {1}, traced(b), T0));
      }
      harness.send("~flush", T0 + 60_000, traced(999));
      harness.driver.advanceWallClockTime(Duration.ofSeconds(1)); // emission goes on in batches

      List<WindowResult> results =
          harness.results().stream()
              .map(TestRecord::value)
              .filter(r -> !r.getGroupKey().equals("~flush"))
              .toList();
      assertThat(results)
          .hasSize(256)
          .allSatisfy(r -> assertThat(r.getMessageCount()).isEqualTo(1));
      assertThat(results.stream().map(WindowResult::getGroupKey).distinct()).hasSize(256);
    }
  }

  @Test
  void longSerializedKeysNeverMerge() {
    try (CorrelatorHarness harness = new CorrelatorHarness(config().build(), stateDir)) {
      TestInputTopic<Long, byte[]> input =
          harness.driver.createInputTopic(
              "events", new LongSerializer(), new ByteArraySerializer());
      for (long key = 0; key < 256; key++) {
        input.pipeInput(new TestRecord<>(key, new byte[] {1}, traced((int) key), T0));
      }
      harness.send("~flush", T0 + 60_000, traced(999));
      harness.driver.advanceWallClockTime(Duration.ofSeconds(1)); // emission goes on in batches

      assertThat(
              harness.results().stream()
                  .map(r -> r.value().getGroupKey())
                  .filter(k -> !k.equals("~flush"))
                  .distinct())
          .hasSize(256);
    }
  }

  @Test
  void aBytesValueFieldGroupsByItsBytes() {
    Schema schema =
        SchemaBuilder.record("Tagged")
            .fields()
            .requiredBytes("tenant")
            .requiredDouble("amount")
            .endRecord();
    AvroSerde<GenericRecord> values = AvroSerde.generic(schema);
    CorrelatorConfig config =
        config().valueSchema(schema).groupBy(GroupBy.valueField("tenant")).build();
    try (CorrelatorHarness harness = new CorrelatorHarness(config, stateDir)) {
      byte[][] tenants = {{1, 2}, {1, 3}, "acme".getBytes(StandardCharsets.UTF_8)};
      for (int i = 0; i < tenants.length; i++) {
        GenericRecord value = new GenericData.Record(schema);
        value.put("tenant", ByteBuffer.wrap(tenants[i]));
        value.put("amount", 1.0);
        harness.send("events", "k", values.serialize("events", value), T0, traced(i));
      }
      GenericRecord flush = new GenericData.Record(schema);
      flush.put("tenant", ByteBuffer.wrap(new byte[] {9}));
      flush.put("amount", 1.0);
      harness.send("events", "k", values.serialize("events", flush), T0 + 60_000, traced(9));
      harness.letSilentPartitionsGoIdle(); // regrouped: a first start waits for every partition

      assertThat(harness.results().stream().map(r -> r.value().getGroupKey()))
          .containsExactlyInAnyOrder("\u0001\u0002", "\u0001\u0003", "acme");
    }
  }

  @Test
  void twoTopicsWithTheSameHashCodeKeepTheirOwnContributors() {
    assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
    try (CorrelatorHarness harness =
        new CorrelatorHarness(config().inputTopics("Aa", "BB").build(), stateDir)) {
      byte[] value = "v".getBytes(StandardCharsets.UTF_8);
      harness.send("Aa", "k", value, T0, traced(1)); // partition 0, offset 0
      harness.send("BB", "k", value, T0, traced(2)); // partition 0, offset 0 too
      harness.send("Aa", "z", value, T0 + 60_000, traced(3));

      WindowResult result =
          harness.results().stream()
              .filter(r -> r.key().equals("k"))
              .findFirst()
              .orElseThrow()
              .value();
      assertThat(result.getMessageCount()).isEqualTo(2);
      assertThat(result.getLinkedCount()).isEqualTo(2);
    }
  }
}

package io.linkcorrelator.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.serdes.CompactSpanContext;
import io.linkcorrelator.streams.propagation.Sampling;
import io.linkcorrelator.streams.propagation.TraceContext;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

class ContributionSerdeTest {

  private static final TraceContext PRIMARY =
      new TraceContext(
          CompactSpanContext.ofHex(
              "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", (byte) 1),
          "dd=s:1",
          "tracecontext",
          Sampling.SAMPLED);

  @Test
  void roundTripsLinkedUnlinkedAndMultiContextContributions() {
    TraceContext terminated =
        new TraceContext(
            new CompactSpanContext(1, 2, 3, (byte) 0), "", "some-other-format", Sampling.UNKNOWN);
    List<Contribution> contributions =
        List.of(
            new Contribution("orders", 3, 42L, 1_700_000_000_000L, List.of(PRIMARY), value(-12.5)),
            new Contribution("orders", 0, 0L, 0L, List.of(), null),
            new Contribution(
                "payments",
                11,
                Long.MAX_VALUE,
                5L,
                List.of(PRIMARY, terminated),
                Bytes.wrap(new byte[0])));
    for (Contribution contribution : contributions) {
      assertThat(ContributionSerde.decode(ContributionSerde.encode(contribution)))
          .isEqualTo(contribution);
    }
  }

  @Test
  void roundTripsContributorLogEntriesWithTheSourceKeptBeforeThem() {
    TraceContext terminated =
        new TraceContext(
            new CompactSpanContext(1, 2, 3, (byte) 0), "", "some-other-format", Sampling.UNKNOWN);
    TraceContext b3 =
        new TraceContext(new CompactSpanContext(4, 5, 6, (byte) 1), "", "b3", Sampling.SAMPLED);
    List<Contribution> contributions =
        List.of(
            new Contribution("orders", 3, 42L, 1_700_000_000_000L, List.of(PRIMARY), number(-12.5)),
            new Contribution("orders", 0, 0L, 0L, List.of(), null),
            new Contribution(
                "payments", 11, Long.MAX_VALUE, 5L, List.of(PRIMARY, terminated), null),
            new Contribution(
                "orders", 1, 7L, 9L, List.of(b3, b3, b3, b3, b3, b3, b3, PRIMARY), number(1)));
    for (Contribution c : contributions) {
      assertThat(
              ContributionSerde.decodeEntry(
                  c.topic(),
                  c.partition(),
                  c.offset(),
                  c.timestamp(),
                  ContributionSerde.encodeEntry(c)))
          .isEqualTo(c);
    }
  }

  @Test
  void aLinkedContributorLogEntryIsTwentySevenBytes() {
    Contribution linked =
        new Contribution(
            "orders",
            3,
            123_456_789L,
            1_795_687_200_000L,
            List.of(new TraceContext(PRIMARY.ids(), "", "tracecontext", Sampling.SAMPLED)),
            null);
    // flags 1 + trace id 16 + span id 8 + trace flags 1 + format and sampling 1
    assertThat(ContributionSerde.encodeEntry(linked)).hasSize(27);
    // a page's key: group key length 1 + "customer-1" 10 + bucket 8 + topic 1 + partition 1 +
    // offset 4
    assertThat(
            StateKeys.logPage(
                    StateKeys.groupKey("customer-1"), 1_795_687_200_000L, 0, 3, 123_456_789L)
                .get())
        .hasSize(25);
  }

  @Test
  void corruptContributorLogEntriesRaiseSerializationException() {
    byte[] valid =
        ContributionSerde.encodeEntry(
            new Contribution("orders", 3, 42L, 7L, List.of(PRIMARY), number(1)));
    for (int length = 0; length < valid.length; length++) {
      byte[] cut = Arrays.copyOf(valid, length);
      assertThatThrownBy(() -> ContributionSerde.decodeEntry("orders", 3, 42L, 7L, cut))
          .isInstanceOf(SerializationException.class);
    }
    byte[] olderLayout =
        ContributionSerde.encode(
            new Contribution("orders", 3, 42L, 7L, List.of(PRIMARY), number(1)));
    assertThatThrownBy(() -> ContributionSerde.decodeEntry("orders", 3, 42L, 7L, olderLayout))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown layout");
    Random random = new Random(3);
    for (int i = 0; i < 1_000; i++) {
      byte[] garbage = new byte[random.nextInt(80)];
      random.nextBytes(garbage);
      try {
        ContributionSerde.decodeEntry("orders", 0, 0L, 0L, garbage);
      } catch (SerializationException expected) {
        // the only acceptable failure
      }
    }
  }

  @Test
  void progressMarkersAndContributionsShareTheTopicToldApartByTheirFirstByte() {
    Captured contribution = new Contribution("orders", 3, 42L, 7L, List.of(PRIMARY), value(1));
    for (Captured captured :
        List.of(
            contribution,
            new Progress("orders", 3, 1_700_000_000_000L),
            new Progress("orders", 0, Long.MIN_VALUE))) {
      byte[] bytes = ContributionSerde.INSTANCE.serialize("regroup", captured);
      assertThat(ContributionSerde.INSTANCE.deserialize("regroup", bytes)).isEqualTo(captured);
    }
    byte[] marker = ContributionSerde.encode(new Progress("orders", 3, 9L));
    assertThatThrownBy(() -> ContributionSerde.decode(marker))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("version 2");
    // a contribution of the previous encoding (version 1, with an 8-byte double value) is refused
    byte[] previous = ContributionSerde.encode(contribution(value(1)));
    previous[0] = 1;
    assertThatThrownBy(() -> ContributionSerde.decode(previous))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("version 1");
    assertThatThrownBy(
            () -> ContributionSerde.decodeProgress(Arrays.copyOf(marker, marker.length - 1)))
        .isInstanceOf(SerializationException.class);
  }

  @Test
  void aLinkedContributionIsCompact() {
    Contribution linked =
        new Contribution(
            "orders",
            3,
            123_456_789L,
            1_795_687_200_000L,
            List.of(new TraceContext(PRIMARY.ids(), "", "tracecontext", Sampling.NOT_SAMPLED)),
            null);
    // version 1 + flags 1 + topic 1+6 + partition 1 + offset 4 + timestamp 6 + count 1
    // + context 26 + tracestate length 1 + format 1
    assertThat(ContributionSerde.encode(linked)).hasSize(49);
  }

  @Test
  void corruptBytesRaiseSerializationException() {
    byte[] valid =
        ContributionSerde.encode(
            new Contribution("orders", 3, 42L, 7L, List.of(PRIMARY), value(1)));
    for (int length = 0; length < valid.length; length++) {
      byte[] cut = Arrays.copyOf(valid, length);
      assertThatThrownBy(() -> ContributionSerde.decode(cut))
          .isInstanceOf(SerializationException.class);
    }
    Random random = new Random(3);
    for (int i = 0; i < 1_000; i++) {
      byte[] garbage = new byte[random.nextInt(80)];
      random.nextBytes(garbage);
      try {
        ContributionSerde.decode(garbage);
      } catch (SerializationException expected) {
        // the only acceptable failure
      }
    }
  }

  private static Bytes value(double value) {
    return Bytes.wrap(java.nio.ByteBuffer.allocate(Double.BYTES).putDouble(value).array());
  }

  private static Contribution contribution(Bytes value) {
    return new Contribution("orders", 3, 42L, 7L, List.of(PRIMARY), value);
  }

  /** A folded value as the application keeps it: an 8-byte double. */
  private static org.apache.kafka.common.utils.Bytes number(double value) {
    return org.apache.kafka.common.utils.Bytes.wrap(
        java.nio.ByteBuffer.allocate(8).putDouble(value).array());
  }
}

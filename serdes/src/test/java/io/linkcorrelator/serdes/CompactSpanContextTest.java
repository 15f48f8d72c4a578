package io.linkcorrelator.serdes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class CompactSpanContextTest {

  @Test
  void roundTripsThroughTwentySixBytes() {
    CompactSpanContext context =
        CompactSpanContext.ofHex("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", (byte) 1);

    byte[] bytes = context.toBytes();

    assertThat(bytes).hasSize(CompactSpanContext.ENCODED_LENGTH);
    CompactSpanContext read = CompactSpanContext.fromBytes(bytes);
    assertThat(read).isEqualTo(context);
    assertThat(read.traceIdHex()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(read.spanIdHex()).isEqualTo("b7ad6b7169203331");
    assertThat(read.isSampled()).isTrue();
    assertThat(read).hasToString("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  }

  @Test
  void roundTripsRandomContextsBackToBackInOneBuffer() {
    Random random = new Random(7);
    CompactSpanContext[] contexts = new CompactSpanContext[100];
    ByteBuffer buffer = ByteBuffer.allocate(contexts.length * CompactSpanContext.ENCODED_LENGTH);
    for (int i = 0; i < contexts.length; i++) {
      contexts[i] =
          new CompactSpanContext(
              random.nextLong(), random.nextLong(), random.nextLong(), (byte) random.nextInt());
      contexts[i].writeTo(buffer);
    }
    buffer.flip();
    for (CompactSpanContext expected : contexts) {
      assertThat(CompactSpanContext.readFrom(buffer)).isEqualTo(expected);
    }
    assertThat(buffer.hasRemaining()).isFalse();
  }

  @Test
  void allZeroIdsAreRepresentableButInvalid() {
    CompactSpanContext none = new CompactSpanContext(0, 0, 0, (byte) 0);
    assertThat(CompactSpanContext.fromBytes(none.toBytes())).isEqualTo(none);
    assertThat(none.isValid()).isFalse();
    assertThat(new CompactSpanContext(0, 1, 0, (byte) 0).isValid()).isFalse();
    assertThat(new CompactSpanContext(0, 1, 1, (byte) 0).isValid()).isTrue();
  }

  @Test
  void badBytesSayWhatIsWrong() {
    assertThatThrownBy(() -> CompactSpanContext.fromBytes(new byte[3]))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("26 bytes, got 3");
    byte[] wrongVersion = new CompactSpanContext(1, 2, 3, (byte) 1).toBytes();
    wrongVersion[0] = 7;
    assertThatThrownBy(() -> CompactSpanContext.fromBytes(wrongVersion))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown span context encoding version 7");
    assertThatThrownBy(() -> CompactSpanContext.readFrom(ByteBuffer.allocate(10)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("truncated span context: 10 bytes");
  }

  @Test
  void serdeMapsNullToNull() {
    try (Serde<CompactSpanContext> serde = CompactSpanContext.serde()) {
      CompactSpanContext context = new CompactSpanContext(1, 2, 3, (byte) 0);
      assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", context)))
          .isEqualTo(context);
      assertThat(serde.serializer().serialize("t", null)).isNull();
      assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }
  }
}

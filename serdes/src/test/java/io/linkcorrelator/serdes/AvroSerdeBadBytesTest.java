package io.linkcorrelator.serdes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.linkcorrelator.schemas.WindowResult;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad bytes raise SerializationException saying what was wrong: never an NPE, a hang or null. */
class AvroSerdeBadBytesTest {

  private final AvroSerde<WindowResult> serde = AvroSerde.of(WindowResult.class);
  private final byte[] valid = serde.serialize("out", AvroSerdeTest.sampleResult());

  @Test
  void emptyBytesAreATruncatedHeader() {
    assertThatThrownBy(() -> serde.deserialize("out", new byte[0]))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("truncated header");
  }

  @Test
  void everyTruncationOfAValidRecordIsRejected() {
    for (int length = 0; length < valid.length; length++) {
      byte[] cut = Arrays.copyOf(valid, length);
      assertThatThrownBy(() -> serde.deserialize("out", cut))
          .as("cut to %d of %d bytes", length, valid.length)
          .isInstanceOf(SerializationException.class)
          .hasMessageMatching("(?s).*(truncated|corrupt).*");
    }
  }

  @Test
  void wrongMagicIsNamed() {
    byte[] bad = valid.clone();
    bad[0] = 0x00;
    assertThatThrownBy(() -> serde.deserialize("out", bad))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("wrong magic 00 01");
  }

  @Test
  void unknownFingerprintIsNamed() {
    byte[] bad = valid.clone();
    bad[5] ^= 0x5A;
    assertThatThrownBy(() -> serde.deserialize("out", bad))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown writer schema fingerprint");
  }

  @Test
  void trailingBytesAreRejected() {
    byte[] longer = Arrays.copyOf(valid, valid.length + 3);
    assertThatThrownBy(() -> serde.deserialize("out", longer))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("3 trailing bytes");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS) // a hang guard, not a performance assertion
  void randomGarbageAlwaysRaisesSerializationExceptionWithAReason() {
    Random random = new Random(20261126L);
    int tried = 0;
    for (int i = 0; i < 1_000; i++) {
      byte[] garbage = new byte[random.nextInt(200)];
      random.nextBytes(garbage);
      expectCleanRejection(garbage);
      tried++;
    }
    // Garbage behind a valid header reaches the Avro body decoder, where the harder cases are.
    for (int i = 0; i < 1_000; i++) {
      byte[] body = new byte[random.nextInt(200)];
      random.nextBytes(body);
      byte[] garbage = Arrays.copyOf(valid, 10 + body.length);
      System.arraycopy(body, 0, garbage, 10, body.length);
      expectCleanRejection(garbage);
      tried++;
    }
    // Single bit flips of a valid record: some still decode (a flipped digit of a double), the
    // rest must fail cleanly.
    for (int i = 0; i < 1_000; i++) {
      byte[] flipped = valid.clone();
      flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
      Throwable thrown = catchThrowable(() -> serde.deserialize("out", flipped));
      if (thrown != null) {
        assertClean(thrown, flipped);
      }
      tried++;
    }
    assertThat(tried).isEqualTo(3_000);
  }

  private void expectCleanRejection(byte[] garbage) {
    Throwable thrown = catchThrowable(() -> serde.deserialize("out", garbage));
    assertThat(thrown).as("garbage %s must not decode", Arrays.toString(garbage)).isNotNull();
    assertClean(thrown, garbage);
  }

  private static void assertClean(Throwable thrown, byte[] input) {
    assertThat(thrown)
        .as("input %s", Arrays.toString(input))
        .isInstanceOf(SerializationException.class)
        .hasMessageStartingWith("cannot deserialize WindowResult from topic out");
  }
}

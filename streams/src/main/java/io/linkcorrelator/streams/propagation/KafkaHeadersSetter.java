package io.linkcorrelator.streams.propagation;

import io.opentelemetry.context.propagation.TextMapSetter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;

/** Writes propagation headers into Kafka {@link Headers}, replacing any of the same name. */
public final class KafkaHeadersSetter implements TextMapSetter<Headers> {

  /** The shared instance; stateless and thread-safe. */
  public static final KafkaHeadersSetter INSTANCE = new KafkaHeadersSetter();

  private KafkaHeadersSetter() {}

  @Override
  public void set(Headers carrier, String key, String value) {
    if (carrier == null || key == null || value == null) {
      return;
    }
    carrier.remove(key);
    carrier.add(key, value.getBytes(StandardCharsets.UTF_8));
  }
}

package io.linkcorrelator.examples.ownaggregate;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * An order, as the example's producers write it: {@code customer;cents} in UTF-8.
 *
 * @param customer who ordered
 * @param cents the amount, in cents
 */
public record Order(String customer, long cents) {

  /** The serde of orders: {@code customer;cents} in UTF-8. */
  public static final Serde<Order> SERDE =
      Serdes.serdeFrom(
          (topic, order) ->
              (order.customer() + ";" + order.cents()).getBytes(StandardCharsets.UTF_8),
          (topic, bytes) -> {
            String text = new String(bytes, StandardCharsets.UTF_8);
            int separator = text.lastIndexOf(';');
            if (separator < 0) {
              throw new IllegalArgumentException("not an order: " + text);
            }
            return new Order(
                text.substring(0, separator), Long.parseLong(text.substring(separator + 1)));
          });
}

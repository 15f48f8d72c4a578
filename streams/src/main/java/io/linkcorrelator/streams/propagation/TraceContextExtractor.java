package io.linkcorrelator.streams.propagation;

import java.util.List;
import org.apache.kafka.common.header.Headers;

/**
 * Finds the producer span context(s) of one message in its Kafka headers: the one seam through
 * which every trace-context format enters the correlator.
 */
@FunctionalInterface
public interface TraceContextExtractor {

  /**
   * The contexts to link to, primary first; later ones are further contexts with a different trace
   * id (linked as terminated contexts). Empty when the message has no valid context. Must never
   * throw, whatever the header bytes.
   *
   * @param headers the message's headers
   * @return the contexts, possibly empty
   */
  List<TraceContext> extract(Headers headers);
}

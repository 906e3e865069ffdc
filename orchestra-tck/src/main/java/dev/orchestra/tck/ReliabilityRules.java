package dev.orchestra.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.orchestra.Container;
import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * The base of the {@link ReliabilityTck} groups: each test opens the drivers it needs, for fresh
 * namespaces ({@code rel-} and random characters), and once they are all closed, nothing of any of
 * those namespaces may be left ({@link ReliabilityTck#leftovers}); and the helpers of the
 * reliability rules.
 */
abstract class ReliabilityRules extends Rules<ReliabilityTck> {

  private final Set<String> namespaces = Collections.synchronizedSet(new LinkedHashSet<>());

  ReliabilityRules(ReliabilityTck kit) {
    super(kit, "rel-");
  }

  /** A fresh namespace, whose leftovers the test checks at its end. */
  @Override
  String newNamespace() {
    String namespace = super.newNamespace();
    namespaces.add(namespace);
    return namespace;
  }

  @Override
  void afterClose() {
    for (String namespace : new ArrayList<>(namespaces)) {
      assertNothingLeft(namespace);
    }
  }

  void assertNothingLeft(String namespace) {
    awaitAtMost("nothing of namespace " + namespace + " to be left")
        .untilAsserted(
            () ->
                assertThat(kit.leftovers(namespace))
                    .as("what is left of namespace %s after close()", namespace)
                    .isEmpty());
  }

  void removeContainer(String namespace, String taskId, Container c) {
    try {
      kit.removeContainerBehindDriver(namespace, taskId, c);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("cannot remove a container behind the driver's back: " + e.getMessage());
    }
  }

  void removeVolume(String namespace, String volumeName) {
    try {
      kit.removeVolumeBehindDriver(namespace, volumeName);
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("cannot remove a volume behind the driver's back: " + e.getMessage());
    }
  }

  static String stdout(Container c) {
    return logsOf(c).out();
  }

  /** An exception a driver may answer with when the platform changed behind its back. */
  static boolean isClear(Throwable t) {
    return t instanceof OrchestraException && !(t instanceof OrchestraInterruptedException);
  }

  static void assertClear(String what, Throwable thrown) {
    if (thrown != null) {
      assertThat(isClear(thrown)).as("%s threw %s", what, describe(thrown)).isTrue();
    }
  }

  static String describe(Throwable t) {
    if (t == null) {
      return "nothing";
    }
    return t.getClass().getName() + ": " + t.getMessage();
  }
}

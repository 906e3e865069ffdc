package dev.orchestra.tck;

import dev.orchestra.Driver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What the kits do with the drivers a test opened. */
final class Drivers {

  private Drivers() {}

  /**
   * Closes every driver, the last opened first, and forgets them: each is closed even when an
   * earlier one fails, and the first failure is thrown with the later ones suppressed.
   *
   * @param opened the drivers, in the order they were opened; emptied
   */
  static void closeAll(List<Driver> opened) {
    List<Driver> toClose = new ArrayList<>(opened);
    Collections.reverse(toClose);
    opened.clear();
    RuntimeException failure = null;
    for (Driver d : toClose) {
      try {
        d.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}

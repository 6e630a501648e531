package dev.killswitch.lab;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The lab most tests stand on, as a JUnit extension: before each test (and before the test class's own
 * {@code @BeforeEach}) a fresh {@link Lab} (client and ISP namespaces) and a {@link KsCli} that runs
 * killswitch in its client namespace; after it, both deleted. Register it with
 * {@code @RegisterExtension final LabRig rig = new LabRig();}. Skips (or, with KILLSWITCH_REQUIRE_LAB=1,
 * fails) where the lab or one of {@code tools} is missing, as {@link LabSupport} does.
 */
final class LabRig implements BeforeEachCallback, AfterEachCallback {
    private final String[] tools;
    private Lab lab;
    private KsCli ks;

    /** {@code tools}: programs the tests need besides the lab's own (e.g. curl), looked for on the PATH. */
    LabRig(String... tools) {
        this.tools = tools.clone();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        LabSupport.assumeTools(tools);
        lab = new Lab();
        ks = new KsCli(lab.clientNs());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (lab != null) lab.close();
        if (ks != null) ks.delete();
        lab = null;
        ks = null;
    }

    Lab lab() {
        return lab;
    }

    KsCli ks() {
        return ks;
    }
}

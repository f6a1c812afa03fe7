"""The example plugin's tests run on tidings' test kit, as any channel plugin's may."""

pytest_plugins = ["tidings.testing"]

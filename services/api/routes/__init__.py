"""One module per capability's routes; ``app.ROUTERS`` lists them."""

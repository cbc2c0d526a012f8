"""The web page over the warehouse (`sentiment ui`): a read-only JSON API and one page that draws it."""

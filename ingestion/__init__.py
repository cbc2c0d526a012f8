"""Ingestion: dumps of social and news text into the partitioned Parquet lake."""

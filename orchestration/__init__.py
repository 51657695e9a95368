"""Dagster orchestration of callshrink: ingestion, data quality, dbt, schedules."""

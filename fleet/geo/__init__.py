"""Geodesy helpers the business needs beside routing's own distances: datum shifts for Chinese map tiles."""
